-- pgqrs SQLite statements of pgqrs_sweeps. ?1 is the clock override (see schema.sql).

-- name: take_sweep
-- Whether the sweep ?2 is due (or forced by ?3), and the time of the sweep, for its later
-- statements and for the report of a skipped sweep. No FOR UPDATE SKIP LOCKED: BEGIN IMMEDIATE
-- serialises sweeps, so a store that waited for the lock finds the next due time moved on.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT n.now,
       EXISTS (SELECT 1 FROM pgqrs_sweeps WHERE name = ?2 AND (?3 OR next_run_at <= n.now)) AS due
FROM n

-- name: finish_sweep
-- ?3 is the interval until the next sweep, in microseconds.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_sweeps
SET next_run_at = n.now + min(?3, {{_never}} - n.now), last_run_at = n.now, last_instance = ?4, runs = runs + 1
FROM n
WHERE name = ?2
