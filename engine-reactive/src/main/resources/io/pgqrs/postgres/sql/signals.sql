-- pgqrs on PostgreSQL: the statements of pgqrs_signals.

-- name: take_run_signal
-- Data-modifying CTEs, one statement, fenced like record_steps by the run's lease ($2 the run, $3
-- its message, $4 the token; the run locked before the message): the oldest unconsumed signal of
-- the name $7 is locked, the step ($5 position, $6 step id, $8 completion) written SUCCESS with its
-- value over a WAITING (or RETRY, or left RUNNING) record or as a new step without attempts, and
-- the signal consumed only if the step was written. held tells whether the fence held. $9 lists
-- the finished run statuses (RunStatus.isFinished), whose runs take no signal.
WITH n AS (SELECT {{_now}} AS now),
r AS MATERIALIZED (
    SELECT id FROM {{schema}}.pgqrs_runs WHERE id = $2 AND status <> ALL($9::text[])
    FOR KEY SHARE),
l AS MATERIALIZED (
    SELECT m.id FROM {{schema}}.pgqrs_messages m
    WHERE m.id = $3 AND m.lease_token = $4 AND m.state = 'live' AND m.visible_at > (SELECT now FROM n)
      AND EXISTS (SELECT 1 FROM r)
    FOR SHARE OF m),
sig AS MATERIALIZED (
    SELECT id, value FROM {{schema}}.pgqrs_signals
    WHERE run_id = $2 AND name = $7 AND consumed_by IS NULL AND EXISTS (SELECT 1 FROM l)
    ORDER BY id LIMIT 1 FOR UPDATE),
st AS (
    INSERT INTO {{schema}}.pgqrs_steps AS s (run_id, step_id, position, status, output, attempts, completion,
                                             started_at, updated_at, finished_at)
    SELECT $2, $6, $5, 'SUCCESS', sig.value, 0, $8, n.now, n.now, n.now FROM sig, n
    ON CONFLICT (run_id, step_id) DO UPDATE
    SET position = excluded.position, status = 'SUCCESS', output = excluded.output, output_type = NULL,
        error = NULL, wake_at = NULL, awaiting = NULL, completion = excluded.completion,
        updated_at = excluded.updated_at, finished_at = excluded.finished_at, lease_token = NULL,
        lease_until = NULL
    WHERE s.status IN ('RETRY', 'WAITING', 'RUNNING')
    RETURNING 1),
c AS (
    UPDATE {{schema}}.pgqrs_signals SET consumed_by = $6
    WHERE id = (SELECT id FROM sig) AND EXISTS (SELECT 1 FROM st)
    RETURNING value)
SELECT (SELECT value::text FROM c) AS value, (SELECT count(*) FROM l) AS held

-- name: list_run_signals
-- The signals of the run $1 after the id $2, by id, at most $3.
SELECT id, run_id, name, value::text AS value, sent_at, consumed_by
FROM {{schema}}.pgqrs_signals
WHERE run_id = $1 AND id > $2
ORDER BY id
LIMIT $3

-- name: insert_signal
INSERT INTO {{schema}}.pgqrs_signals (run_id, name, value, sent_at) VALUES ($2, $3, $4::jsonb, {{_now}})
