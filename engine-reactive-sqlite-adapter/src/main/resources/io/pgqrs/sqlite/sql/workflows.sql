-- pgqrs SQLite statements of pgqrs_workflows. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: register_workflow
-- After register_queue in the same transaction; INSERT ... SELECT needs its WHERE before
-- ON CONFLICT in SQLite.
INSERT INTO pgqrs_workflows (name, queue_id, created_at)
SELECT ?2, id, coalesce(?1, {{_now}}) FROM pgqrs_queues WHERE name = ?2
ON CONFLICT (name) DO NOTHING

-- name: find_workflow
-- The queue ?3 of a workflow's run message (the workflow's own, or its version's), and the time of
-- the trigger that looks it up, for the statements after it: SQLite has no data-modifying CTEs to
-- trigger a run in one statement. No row when the workflow or the queue does not exist.
SELECT q.id AS queue_id, coalesce(?1, {{_now}}) AS now
FROM pgqrs_workflows w JOIN pgqrs_queues q ON q.name = ?3
WHERE w.name = ?2
