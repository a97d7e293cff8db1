-- pgqrs PostgreSQL migration 15: forked runs.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- A run created by Runs.fork names the run it was forked from. Null for every other run, so
-- existing rows need no rewrite.
ALTER TABLE ${schema}.pgqrs_runs ADD COLUMN forked_from bigint;
