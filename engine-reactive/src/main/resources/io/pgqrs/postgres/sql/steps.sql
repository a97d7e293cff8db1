-- pgqrs on PostgreSQL: the statements of pgqrs_steps. A step is written under the lease of its run's
-- message, which fences every record (record_steps, and take_run_signal in signals.sql). The
-- steps' lease_token and lease_until columns are left from the step leases of schemas before V006:
-- nothing takes a step's lease any more, and a record clears them.

-- name: record_steps
-- A batch of step records of one or more runs in one statement, the arrays $2.. unnested in input
-- order, each record fenced on its own: written only while its run's message lease holds (the
-- message live, leased under the record's token, its lease not expired by the clock) and its run
-- has not finished (its status is none of $16, the statuses RunStatus.isFinished names). The runs
-- are locked (FOR KEY SHARE) before their messages (FOR SHARE), in the order every statement that
-- finishes, suspends or signals a run locks them, so such a change commits before the fence is
-- judged or waits until the records commit, and a claim skips the messages meanwhile; SQLite's one
-- writer checks the fence and writes each record in one transaction instead. A new step is
-- inserted, begun the time its body ran before now; a RETRY, WAITING or (left by the step leases
-- before V006) RUNNING record is overwritten, keeping its start; SUCCESS and ERROR are never
-- changed. A due time is now plus the record's microseconds; a WAITING record without one keeps
-- the due time it had. One row per record comes back, in input order. The clock is the
-- statement's, not the transaction's: inside a transactional step the lease is judged when the
-- record is written, after the caller's work. Each run and message is looked up and locked by its
-- key in a subquery of its own (see "Rows by key" in common.sql), so the plan walks the primary keys
-- whatever the planner believes of the tables' sizes.
WITH n AS (SELECT coalesce($1::timestamptz, statement_timestamp()) AS now),
t AS (
    SELECT *
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::integer[], $12::bigint[], $13::text[], $14::integer[], $15::bigint[])
        WITH ORDINALITY AS t(run_id, message_id, token, position, step_id, status, output, output_type, error,
                             attempts, wake_us, awaiting, completion, ran_us, ord)),
r AS MATERIALIZED (
    SELECT x.id, x.status
    FROM (SELECT DISTINCT run_id FROM t ORDER BY run_id) k
    CROSS JOIN LATERAL (
        SELECT r.id, r.status FROM {{schema}}.pgqrs_runs r WHERE r.id = k.run_id FOR KEY SHARE OF r) x),
l AS MATERIALIZED (
    SELECT x.id, x.lease_token
    FROM (SELECT DISTINCT t.message_id FROM t JOIN r ON r.id = t.run_id ORDER BY t.message_id) k
    CROSS JOIN LATERAL (
        SELECT m.id, m.lease_token, m.state, m.visible_at FROM {{schema}}.pgqrs_messages m
        WHERE m.id = k.message_id
        OFFSET 0 FOR SHARE OF m) x
    WHERE x.state = 'live' AND x.visible_at > (SELECT now FROM n)),
f AS (
    SELECT t.*, r.status AS run_status,
           coalesce(r.status <> ALL($16::text[]) AND l.id IS NOT NULL, false) AS fenced
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

-- name: list_steps
SELECT run_id, step_id, status, attempts, output::text AS output, error, wake_at, started_at, updated_at,
       finished_at, position
FROM {{schema}}.pgqrs_steps WHERE run_id = $1 ORDER BY seq
