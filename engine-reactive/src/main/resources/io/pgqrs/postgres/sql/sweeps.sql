-- pgqrs on PostgreSQL: the statements of pgqrs_sweeps, the schedule of the maintenance sweep.

-- name: take_sweep
-- The sweep row serialises sweeps across instances: SKIP LOCKED means an instance that finds
-- another one sweeping skips instead of queueing behind it, and a row whose next_run_at moved into
-- the future while this statement waited is re-checked and skipped too. One row always comes back,
-- with the clock, so a skipped sweep still reports when it looked.
WITH n AS (SELECT {{_now}} AS now),
s AS (
    SELECT w.name FROM {{schema}}.pgqrs_sweeps w
    WHERE w.name = $2 AND ($3::boolean OR w.next_run_at <= (SELECT now FROM n))
    FOR UPDATE OF w SKIP LOCKED)
SELECT n.now, (SELECT count(*) FROM s) AS taken FROM n

-- name: finish_sweep
-- timestamptz arithmetic; SQLite adds integer microseconds.
UPDATE {{schema}}.pgqrs_sweeps
SET next_run_at = {{_now}} + $3 * interval '1 millisecond', last_run_at = {{_now}}, last_instance = $4,
    runs = runs + 1
WHERE name = $2
