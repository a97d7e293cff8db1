-- pgqrs SQLite statements of pgqrs_steps. ?1 is the clock override where a statement reads the
-- clock (see schema.sql). A step is leased like a message: its token fences every write.

-- name: acquire_step
-- Takes the step's lease for ?4 microseconds if the step is new, or its lease expired, or its
-- retry is due, or it waits; returns no row otherwise. A new step's seq is the run's highest plus
-- one, and retaking a step never changes it. As on PostgreSQL, a retry's due time is cleared on
-- takeover, so wake_at comes back (RETURNING gives the row as updated) set only for a sleep or
-- signal wait begun earlier.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_steps (run_id, step_id, status, attempts, lease_token, lease_until, started_at, updated_at, seq)
SELECT ?2, ?3, 'RUNNING', 1, {{_new_token}}, n.now + min(?4, {{_never}} - n.now), n.now, n.now,
       (SELECT coalesce(max(seq), 0) + 1 FROM pgqrs_steps WHERE run_id = ?2)
FROM n WHERE true
ON CONFLICT (run_id, step_id) DO UPDATE
SET status = 'RUNNING', attempts = pgqrs_steps.attempts + 1, lease_token = excluded.lease_token,
    lease_until = excluded.lease_until, updated_at = excluded.updated_at,
    wake_at = CASE WHEN pgqrs_steps.status = 'RETRY' THEN NULL ELSE pgqrs_steps.wake_at END
WHERE (pgqrs_steps.status = 'RUNNING' AND pgqrs_steps.lease_until <= excluded.updated_at)
   OR (pgqrs_steps.status = 'RETRY' AND pgqrs_steps.wake_at <= excluded.updated_at)
   OR pgqrs_steps.status = 'WAITING'
RETURNING lease_token, attempts, wake_at

-- name: find_step
-- The record of a step acquire_step did not take.
SELECT status, output, output_type, error, attempts, lease_until, wake_at
FROM pgqrs_steps WHERE run_id = ?1 AND step_id = ?2

-- name: finish_step
-- The due time of a retry or a wait is the store's now plus ?9 microseconds; a WAITING record
-- without ?9 (a wait replayed) keeps the due time it had, so it does not drift.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_steps
SET status = ?5, output = ?6, output_type = ?7, error = coalesce(?8, error),
    wake_at = CASE WHEN ?9 IS NOT NULL THEN n.now + min(?9, {{_never}} - n.now) WHEN ?5 = 'WAITING' THEN wake_at END,
    awaiting = ?10,
    lease_token = NULL, lease_until = NULL, updated_at = n.now,
    finished_at = CASE WHEN ?5 IN ('SUCCESS', 'ERROR') THEN n.now END
FROM n
WHERE run_id = ?2 AND step_id = ?3 AND lease_token = ?4 AND status = 'RUNNING'

-- name: extend_step
-- ?5 is the new lease's length in microseconds, from now; run_status follows in the same
-- transaction (no data-modifying CTE to return both).
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_steps SET lease_until = n.now + min(?5, {{_never}} - n.now)
FROM n
WHERE run_id = ?2 AND step_id = ?3 AND lease_token = ?4 AND status = 'RUNNING'

-- name: record_signal_step
-- Records the signal's value ?5 as the step's output if the step's lease holds. take_signal on
-- PostgreSQL does this, next_signal and consume_signal in one statement.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_steps
SET status = 'SUCCESS', output = ?5, output_type = NULL, lease_token = NULL, lease_until = NULL,
    awaiting = NULL, wake_at = NULL, finished_at = n.now, updated_at = n.now
FROM n
WHERE run_id = ?2 AND step_id = ?3 AND lease_token = ?4 AND status = 'RUNNING'

-- name: list_steps
SELECT run_id, step_id, status, attempts, output, error, wake_at, started_at, updated_at, finished_at
FROM pgqrs_steps WHERE run_id = ?1 ORDER BY seq

-- name: delete_steps_of_runs
-- ?1 the runs, a JSON array. Deleted explicitly (not left to ON DELETE CASCADE) to be counted.
DELETE FROM pgqrs_steps WHERE run_id IN (SELECT value FROM json_each(?1))
