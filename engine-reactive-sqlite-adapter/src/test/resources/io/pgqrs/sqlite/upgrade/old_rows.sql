-- Rows of the workflow tables written at an older schema version, for the upgrade tests
-- (SqliteUpgradeContract): the driver's statements of these tables name columns of the latest
-- schema, so before the upgrade the runs are made here, in the columns every version since
-- migration 3 has. Times are bound, never read from the clock.

-- name: insert_run
-- ?1 workflow, ?2 input, ?3 time.
INSERT INTO pgqrs_runs (workflow, status, input, created_at, updated_at)
VALUES (?1, 'QUEUED', ?2, ?3, ?3)
RETURNING id

-- name: insert_run_message
-- ?1 the workflow's queue, ?2 the run, ?3 time: visible at once, as triggering made it.
INSERT INTO pgqrs_messages (queue_id, payload, enqueued_at, visible_at)
SELECT id, json_object('run_id', ?2), ?3, ?3 FROM pgqrs_queues WHERE name = ?1
RETURNING id

-- name: link_run_message
UPDATE pgqrs_runs SET message_id = ?2 WHERE id = ?1

-- name: begin_run
-- ?1 the run, ?2 time: a worker began it.
UPDATE pgqrs_runs SET status = 'RUNNING', attempts = attempts + 1, started_at = ?2, updated_at = ?2 WHERE id = ?1

-- name: insert_signal
-- ?1 the run, ?2 name, ?3 value, ?4 time.
INSERT INTO pgqrs_signals (run_id, name, value, sent_at) VALUES (?1, ?2, ?3, ?4)

-- name: queues
SELECT * FROM pgqrs_queues ORDER BY id

-- name: workers
SELECT * FROM pgqrs_workers ORDER BY id

-- name: messages
SELECT * FROM pgqrs_messages ORDER BY id

-- name: workflows
SELECT * FROM pgqrs_workflows ORDER BY name

-- name: runs
SELECT * FROM pgqrs_runs ORDER BY id

-- name: steps
SELECT * FROM pgqrs_steps ORDER BY run_id, step_id

-- name: signals
SELECT * FROM pgqrs_signals ORDER BY id
