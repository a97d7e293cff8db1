-- pgqrs SQLite statements of pgqrs_steps. ?1 is the clock override where a statement reads the
-- clock (see schema.sql). A step is written under the lease of its run's message, which fences
-- every record (record_step, record_taken_signal). The steps' lease_token and lease_until columns
-- are left from the step leases of schemas before V006: nothing takes a step's lease any more, and
-- a record clears them.

-- name: _run_lease_holds
-- The fence of a write under the run's lease, as of n.now: the run ?2's message ?3 is live and
-- leased under the token ?4, its lease not expired, and the run has not finished (it may be
-- CANCELLING or PAUSED). A statement using it numbers its parameters so. The statuses are the
-- finished ones (RunStatus.isFinished()), the fence StoreParams.RecordStep defines: no transition.
EXISTS (SELECT 1 FROM pgqrs_messages
        WHERE id = ?3 AND lease_token = ?4 AND state = 'live' AND visible_at > n.now)
AND EXISTS (SELECT 1 FROM pgqrs_runs WHERE id = ?2 AND status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED'))

-- name: _overwritable_step
-- A step record a later one replaces: a retry or a wait, or a step left begun (RUNNING) by the
-- step leases before V006. SUCCESS and ERROR are never changed.
pgqrs_steps.status IN ('RETRY', 'WAITING', 'RUNNING')

-- name: record_step
-- One step record of a batch, fenced by the run's lease (?2 run, ?3 message, ?4 token; see
-- _run_lease_holds): ?5 step id, ?6 status, ?7 output, ?8 output type, ?9 error, ?10 attempts,
-- ?11 position, ?12 completion, ?13 awaited signal, ?14 wait in microseconds or NULL, ?15 how long
-- the body ran in microseconds. ?1 is the time the batch's first statement read. A new step is
-- inserted, begun ?15 before now, with the run's highest seq plus one; a retry or wait is
-- overwritten, keeping its start and seq; SUCCESS and ERROR are never changed. The due time is now
-- plus ?14; a WAITING record without ?14 (a wait replayed) keeps the due time it had. The step
-- lease columns are cleared. Changes one row if written, none otherwise.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, position, completion,
                         awaiting, wake_at, started_at, updated_at, finished_at, seq)
SELECT ?2, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
       CASE WHEN ?14 IS NOT NULL THEN n.now + min(?14, {{_never}} - n.now) END,
       n.now - min(max(?15, 0), n.now), n.now, CASE WHEN ?6 IN ('SUCCESS', 'ERROR') THEN n.now END,
       (SELECT coalesce(max(seq), 0) + 1 FROM pgqrs_steps WHERE run_id = ?2)
FROM n
WHERE {{_run_lease_holds}}
ON CONFLICT (run_id, step_id) DO UPDATE
SET status = excluded.status, output = excluded.output, output_type = excluded.output_type,
    error = excluded.error, attempts = excluded.attempts, position = excluded.position,
    completion = excluded.completion, awaiting = excluded.awaiting,
    wake_at = CASE WHEN ?14 IS NULL AND excluded.status = 'WAITING' THEN pgqrs_steps.wake_at ELSE excluded.wake_at END,
    lease_token = NULL, lease_until = NULL, updated_at = excluded.updated_at, finished_at = excluded.finished_at
WHERE {{_overwritable_step}}

-- name: record_taken_signal
-- A signal's value ?5 recorded as the SUCCESS of the step ?3 at position ?4 with completion ?6,
-- over its wait or as a new step (no attempt: a signal wait runs no body). After
-- pending_signal_for_step found the run's lease held in the same transaction. Changes one row if
-- written, none when the step was already recorded SUCCESS or ERROR.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, position, completion,
                         awaiting, wake_at, started_at, updated_at, finished_at, seq)
SELECT ?2, ?3, 'SUCCESS', ?5, NULL, NULL, 0, ?4, ?6, NULL, NULL, n.now, n.now, n.now,
       (SELECT coalesce(max(seq), 0) + 1 FROM pgqrs_steps WHERE run_id = ?2)
FROM n WHERE true
ON CONFLICT (run_id, step_id) DO UPDATE
SET status = 'SUCCESS', output = excluded.output, output_type = NULL, error = NULL, position = excluded.position,
    completion = excluded.completion, awaiting = NULL, wake_at = NULL, lease_token = NULL, lease_until = NULL,
    updated_at = excluded.updated_at, finished_at = excluded.finished_at
WHERE {{_overwritable_step}}

-- name: list_steps
SELECT run_id, step_id, status, attempts, output, error, wake_at, started_at, updated_at, finished_at, position
FROM pgqrs_steps WHERE run_id = ?1 ORDER BY seq

-- name: delete_steps_of_runs
-- ?1 the runs, a JSON array. Deleted explicitly (not left to ON DELETE CASCADE) to be counted.
DELETE FROM pgqrs_steps WHERE run_id IN (SELECT value FROM json_each(?1))
