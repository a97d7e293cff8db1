-- pgqrs on PostgreSQL: the statements of pgqrs_signals.

-- name: take_signal
-- Data-modifying CTEs, one statement: the step is recorded only if its lease holds, and the
-- signal is consumed only if the step was recorded.
WITH sig AS (
    SELECT id, value FROM {{schema}}.pgqrs_signals
    WHERE run_id = $2 AND name = $5 AND consumed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE),
st AS (
    UPDATE {{schema}}.pgqrs_steps
    SET status = 'SUCCESS', output = (SELECT value FROM sig), output_type = NULL, lease_token = NULL,
        lease_until = NULL, awaiting = NULL, wake_at = NULL, finished_at = {{_now}}, updated_at = {{_now}}
    WHERE run_id = $2 AND step_id = $3 AND lease_token = $4 AND status = 'RUNNING'
      AND EXISTS (SELECT 1 FROM sig)
    RETURNING 1),
c AS (
    UPDATE {{schema}}.pgqrs_signals SET consumed_by = $3
    WHERE id = (SELECT id FROM sig) AND EXISTS (SELECT 1 FROM st)
    RETURNING value)
SELECT (SELECT value::text FROM c) AS value, (SELECT count(*) FROM sig) AS found,
       (SELECT count(*) FROM st) AS recorded

-- name: insert_signal
INSERT INTO {{schema}}.pgqrs_signals (run_id, name, value, sent_at) VALUES ($2, $3, $4::jsonb, {{_now}})
