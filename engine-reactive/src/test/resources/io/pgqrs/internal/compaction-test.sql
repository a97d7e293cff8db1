-- A file for SqlCompactionTest.

-- name: _cols
-- A fragment.
id,   -- the id
    name

-- name: pick
-- Picks a row.
SELECT {{_cols}}
FROM   {{schema}}.t   -- the table
WHERE  label = '{{label}}';
