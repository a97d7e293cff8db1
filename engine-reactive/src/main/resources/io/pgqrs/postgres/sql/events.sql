-- pgqrs on PostgreSQL: the statements of pgqrs_run_events. An event is written with the step that
-- sets it, under the lease of its run's message, like every step record (see steps.sql).

-- name: set_run_event
-- Data-modifying CTEs, one statement: the run $2 is locked FOR NO KEY UPDATE (so the event writes
-- of one run take their seq in commit order; record_steps' FOR KEY SHARE does not wait for it),
-- then its message $3 FOR SHARE, fenced by the token $4 as record_steps is and by the run not
-- having finished ($10, the statuses RunStatus.isFinished names). The step ($5 position, $6 step
-- id, $9 completion) is inserted SUCCESS without attempts, and the event ($7 key, $8 value) only
-- if the step was: a step already recorded, at its id or its position, writes nothing.
WITH n AS (SELECT {{_now}} AS now),
r AS MATERIALIZED (
    SELECT id, status FROM {{schema}}.pgqrs_runs WHERE id = $2
    FOR NO KEY UPDATE),
l AS MATERIALIZED (
    SELECT m.id FROM {{schema}}.pgqrs_messages m
    WHERE m.id = $3 AND m.lease_token = $4 AND m.state = 'live' AND m.visible_at > (SELECT now FROM n)
      AND EXISTS (SELECT 1 FROM r WHERE r.status <> ALL($10::text[]))
    FOR SHARE OF m),
st AS (
    INSERT INTO {{schema}}.pgqrs_steps (run_id, step_id, position, status, attempts, completion, started_at,
                                        updated_at, finished_at)
    SELECT $2, $6, $5, 'SUCCESS', 0, $9, n.now, n.now, n.now FROM n
    WHERE EXISTS (SELECT 1 FROM l)
    ON CONFLICT DO NOTHING
    RETURNING 1),
ev AS (
    INSERT INTO {{schema}}.pgqrs_run_events (run_id, key, position, value, created_at)
    SELECT $2, $7, $5, $8::jsonb, n.now FROM n
    WHERE EXISTS (SELECT 1 FROM st)
    RETURNING seq)
SELECT (SELECT status FROM r) AS run_status, EXISTS (SELECT 1 FROM ev) AS written

-- name: list_run_events
-- The events of the runs $1 each after its own seq ($2, same index), by run and seq, at most $3.
SELECT e.run_id, e.seq, e.key, e.value::text AS value, e.created_at
FROM unnest($1::bigint[], $2::bigint[]) AS t(run_id, after_seq)
JOIN {{schema}}.pgqrs_run_events e ON e.run_id = t.run_id AND e.seq > t.after_seq
ORDER BY e.run_id, e.seq
LIMIT $3
