-- pgqrs on PostgreSQL: the statements of pgqrs_steps. A step is written under the lease of its run's
-- message, which fences every record (record_steps, and take_run_signal in signals.sql); the
-- step-lease statements (acquire_step, finish_step, extend_step), where a step is leased like a
-- message and its token fences every write, stay until the engine has moved to the run lease.

-- name: record_steps
-- A batch of step records of one or more runs in one statement, the arrays $2.. unnested in input
-- order, each record fenced on its own: written only while its run's message lease holds (the
-- message live, leased under the record's token, its lease not expired by the clock) and its run
-- has not finished. The runs are locked (FOR KEY SHARE) before their messages (FOR SHARE), in the
-- order every statement that finishes, suspends or signals a run locks them, so such a change
-- commits before the fence is judged or waits until the records commit, and a claim skips the
-- messages meanwhile; SQLite's one writer checks the fence and writes each record in one
-- transaction instead. A new step is inserted, begun the time its body ran before now; a RETRY,
-- WAITING or (left by the step-lease statements) RUNNING record is overwritten, keeping its start;
-- SUCCESS and ERROR are never changed. A due time is now plus the record's microseconds; a WAITING
-- record without one keeps the due time it had. One row per record comes back, in input order.
-- The clock is the statement's, not the transaction's: inside a transactional step the lease is
-- judged when the record is written, after the caller's work.
WITH n AS (SELECT coalesce($1::timestamptz, statement_timestamp()) AS now),
t AS (
    SELECT *
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::integer[], $12::bigint[], $13::text[], $14::integer[], $15::bigint[])
        WITH ORDINALITY AS t(run_id, message_id, token, position, step_id, status, output, output_type, error,
                             attempts, wake_us, awaiting, completion, ran_us, ord)),
r AS MATERIALIZED (
    SELECT r.id, r.status FROM {{schema}}.pgqrs_runs r
    WHERE r.id IN (SELECT run_id FROM t)
    ORDER BY r.id
    FOR KEY SHARE OF r),
l AS MATERIALIZED (
    SELECT m.id, m.lease_token FROM {{schema}}.pgqrs_messages m
    WHERE m.id IN (SELECT t.message_id FROM t JOIN r ON r.id = t.run_id)
      AND m.state = 'live' AND m.visible_at > (SELECT now FROM n)
    ORDER BY m.id
    FOR SHARE OF m),
f AS (
    SELECT t.*, r.status AS run_status,
           coalesce(r.status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED') AND l.id IS NOT NULL, false) AS fenced
    FROM t
    LEFT JOIN r ON r.id = t.run_id
    LEFT JOIN l ON l.id = t.message_id AND l.lease_token = t.token::uuid),
w AS (
    INSERT INTO {{schema}}.pgqrs_steps AS st (run_id, step_id, position, status, output, output_type, error,
                                              attempts, wake_at, awaiting, completion, started_at, updated_at,
                                              finished_at)
    SELECT f.run_id, f.step_id, f.position, f.status, f.output::jsonb, f.output_type, f.error, f.attempts,
           n.now + f.wake_us * interval '1 microsecond', f.awaiting, f.completion,
           n.now - f.ran_us * interval '1 microsecond', n.now,
           CASE WHEN f.status IN ('SUCCESS', 'ERROR') THEN n.now END
    FROM f, n
    WHERE f.fenced
    ORDER BY f.ord
    ON CONFLICT (run_id, step_id) DO UPDATE
    SET position = excluded.position, status = excluded.status, output = excluded.output,
        output_type = excluded.output_type, error = excluded.error, attempts = excluded.attempts,
        wake_at = CASE WHEN excluded.wake_at IS NULL AND excluded.status = 'WAITING' THEN st.wake_at
                       ELSE excluded.wake_at END,
        awaiting = excluded.awaiting, completion = excluded.completion, updated_at = excluded.updated_at,
        finished_at = excluded.finished_at, lease_token = NULL, lease_until = NULL
    WHERE st.status IN ('RETRY', 'WAITING', 'RUNNING')
    RETURNING st.run_id, st.step_id)
SELECT f.ord, f.run_status, w.step_id IS NOT NULL AS written
FROM f LEFT JOIN w ON w.run_id = f.run_id AND w.step_id = f.step_id
ORDER BY f.ord

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
       finished_at, position
FROM {{schema}}.pgqrs_steps WHERE run_id = $1 ORDER BY seq
