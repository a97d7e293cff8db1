-- pgqrs SQLite statements of pgqrs_workflows. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: register_workflow
-- After register_queue in the same transaction; INSERT ... SELECT needs its WHERE before
-- ON CONFLICT in SQLite.
INSERT INTO pgqrs_workflows (name, queue_id, created_at)
SELECT ?2, id, coalesce(?1, {{_now}}) FROM pgqrs_queues WHERE name = ?2
ON CONFLICT (name) DO NOTHING

-- name: find_workflow
-- A workflow's queue, and the time of the trigger that looks it up, for the statements after it:
-- SQLite has no data-modifying CTEs to trigger a run in one statement.
SELECT queue_id, coalesce(?1, {{_now}}) AS now FROM pgqrs_workflows WHERE name = ?2
