-- pgqrs on PostgreSQL: the statements of pgqrs_workflows.

-- name: register_workflow
-- A workflow runs on the queue of its own name; registering it again changes nothing.
INSERT INTO {{schema}}.pgqrs_workflows (name, queue_id, created_at)
SELECT $2, id, {{_now}} FROM {{schema}}.pgqrs_queues WHERE name = $2
ON CONFLICT (name) DO NOTHING
