-- pgqrs SQLite statements of pgqrs_sweeps. ?1 is the clock override (see schema.sql).

-- name: take_turn
-- ?2 service, ?3 force (1 or 0), ?4 interval in microseconds, ?5 instance. The single writer
-- serialises turns: a store that waited for the writer sees next_run_at moved on and takes nothing.
UPDATE pgqrs_sweeps
SET next_run_at = coalesce(?1, {{_now}}) + ?4, last_run_at = coalesce(?1, {{_now}}), last_instance = ?5, runs = runs + 1
WHERE name = ?2 AND (?3 OR next_run_at <= coalesce(?1, {{_now}}))
RETURNING last_run_at AS now

-- name: turn_not_taken
-- ?2 service. The clock for a turn not taken, and whether the service has a row at all.
SELECT coalesce(?1, {{_now}}) AS now, EXISTS (SELECT 1 FROM pgqrs_sweeps WHERE name = ?2) AS known

-- name: schedules
SELECT name, next_run_at, last_run_at, last_instance, runs FROM pgqrs_sweeps ORDER BY name
