-- pgqrs on PostgreSQL: the statements of pgqrs_sweeps, one schedule row per maintenance service.

-- name: take_turn
-- $2 service, $3 force, $4 interval in milliseconds, $5 instance. SKIP LOCKED: an instance that
-- finds another one taking the turn skips instead of queueing behind it, and a row whose
-- next_run_at moved into the future meanwhile is re-checked on the latest version and skipped. One
-- row always comes back, with the clock, so a turn not taken still reports when it looked.
WITH n AS (SELECT {{_now}} AS now),
due AS (
    SELECT s.name FROM {{schema}}.pgqrs_sweeps s
    WHERE s.name = $2 AND ($3::boolean OR s.next_run_at <= (SELECT now FROM n))
    FOR UPDATE OF s SKIP LOCKED),
taken AS (
    UPDATE {{schema}}.pgqrs_sweeps s
    SET next_run_at = n.now + $4 * interval '1 millisecond', last_run_at = n.now, last_instance = $5,
        runs = s.runs + 1
    FROM n, due
    WHERE s.name = due.name
    RETURNING s.name)
SELECT n.now, (SELECT count(*) FROM taken) AS taken,
       EXISTS (SELECT 1 FROM {{schema}}.pgqrs_sweeps WHERE name = $2) AS known
FROM n

-- name: schedules
SELECT name, next_run_at, last_run_at, last_instance, runs FROM {{schema}}.pgqrs_sweeps ORDER BY name
