-- pgqrs on PostgreSQL: the statements of pgqrs_steps.

-- name: acquire_step
-- A data-modifying CTE (INSERT ... ON CONFLICT DO UPDATE) in one autocommit statement: the run's
-- state, the upsert that takes the step's lease when the run may go on and the step is takeable,
-- and (when it is not taken) the step's record as of the statement's snapshot. A recorded SUCCESS
-- or ERROR never changes, so the snapshot is exact for them; a concurrent insert of the same step
-- waits on the primary key and then finds the lease taken. A retry's due time is cleared on
-- takeover, so wake_at comes back set only for a sleep or signal wait begun earlier.
WITH n AS (SELECT {{_now}} AS now),
r AS (SELECT status, coalesce(deadline_at <= n.now, false) AS timed_out FROM {{schema}}.pgqrs_runs, n WHERE id = $2),
ins AS (
    INSERT INTO {{schema}}.pgqrs_steps AS st (run_id, step_id, status, attempts, lease_token, lease_until, started_at,
                                              updated_at)
    SELECT $2, $3, 'RUNNING', 1, gen_random_uuid(), n.now + $4 * interval '1 millisecond', n.now, n.now
    FROM n, r WHERE r.status IN ('QUEUED', 'RUNNING') AND NOT r.timed_out
    ON CONFLICT (run_id, step_id) DO UPDATE
    SET status = 'RUNNING', attempts = st.attempts + 1, lease_token = excluded.lease_token,
        lease_until = excluded.lease_until, updated_at = excluded.updated_at,
        wake_at = CASE WHEN st.status = 'RETRY' THEN NULL ELSE st.wake_at END
    WHERE (st.status = 'RUNNING' AND st.lease_until <= excluded.updated_at)
       OR (st.status = 'RETRY' AND st.wake_at <= excluded.updated_at)
       OR st.status = 'WAITING'
    RETURNING st.lease_token, st.attempts, st.wake_at)
SELECT r.status AS run_status, r.timed_out, ins.lease_token, ins.attempts AS taken_attempts,
       ins.wake_at AS taken_wake_at, s.status, s.output::text AS output, s.output_type, s.error, s.attempts,
       s.lease_until, s.wake_at, (SELECT now FROM n) AS now
FROM (SELECT 1) AS one
LEFT JOIN r ON true
LEFT JOIN ins ON true
LEFT JOIN {{schema}}.pgqrs_steps s ON ins.lease_token IS NULL AND s.run_id = $2 AND s.step_id = $3

-- name: finish_step
-- Records the step only while its lease ($4) holds. A due time is the store's now plus $9
-- microseconds; a WAITING record without one keeps the due time it had, so a replayed wait does
-- not drift.
UPDATE {{schema}}.pgqrs_steps
SET status = $5, output = $6::jsonb, output_type = $7, error = coalesce($8, error),
    wake_at = CASE WHEN $9::bigint IS NOT NULL THEN {{_now}} + $9::bigint * interval '1 microsecond'
                   WHEN $5 = 'WAITING' THEN wake_at END,
    awaiting = $10, lease_token = NULL, lease_until = NULL, updated_at = {{_now}},
    finished_at = CASE WHEN $5 IN ('SUCCESS', 'ERROR') THEN {{_now}} END
WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'

-- name: extend_step
-- A data-modifying CTE: the extension and the run's status (a cancel to notice) in one statement.
WITH u AS (
    UPDATE {{schema}}.pgqrs_steps SET lease_until = {{_now}} + $5 * interval '1 millisecond'
    WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'
    RETURNING 1)
SELECT (SELECT count(*) FROM u) AS held, (SELECT status FROM {{schema}}.pgqrs_runs WHERE id = $2) AS run_status

-- name: list_steps
SELECT run_id, step_id, status, attempts, output::text AS output, error, wake_at, started_at, updated_at,
       finished_at
FROM {{schema}}.pgqrs_steps WHERE run_id = $1 ORDER BY seq
