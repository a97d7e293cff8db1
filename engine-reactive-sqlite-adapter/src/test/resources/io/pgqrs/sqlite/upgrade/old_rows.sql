-- Rows of the workflow tables written at an older schema version, for the upgrade tests
-- (SqliteUpgradeContract): the driver's statements of these tables name columns of the latest
-- schema, so before the upgrade the queues, runs and messages are made here, in the columns every version
-- since migration 3 has. The steps are written here too, as the step leases of older releases left them
-- (the driver no longer leases steps); RunLeaseContract writes a step held under a step lease so,
-- as a release before the run lease left one. Times are bound, never read from the clock.

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

-- name: insert_queue
-- ?1 the name, ?2 max attempts, ?3 time: a queue as create_queue wrote it before migration 7 gave
-- queues a concurrency limit.
INSERT INTO pgqrs_queues (name, max_attempts, created_at) VALUES (?1, ?2, ?3)

-- name: find_queue
SELECT id, name, max_attempts, created_at FROM pgqrs_queues WHERE name = ?1

-- name: highest_queue_id
SELECT max(id) AS id FROM pgqrs_queues

-- name: insert_message
-- ?1 the queue, ?2 the payload, ?3 time: a live message visible at once, as enqueue wrote it
-- before migration 7 gave messages their place in the claim order (due_at).
INSERT INTO pgqrs_messages (queue_id, payload, enqueued_at, visible_at)
SELECT id, ?2, ?3, ?3 FROM pgqrs_queues WHERE name = ?1
RETURNING id

-- name: lease_message
-- ?1 the message, ?2 its new lease token, ?3 the lease owner or NULL, ?4 the lease's end: leased as
-- a claim leased it before migration 7.
UPDATE pgqrs_messages SET attempts = attempts + 1, lease_token = ?2, lease_owner = ?3, visible_at = ?4
WHERE id = ?1 AND state = 'live'

-- name: link_run_message
UPDATE pgqrs_runs SET message_id = ?2 WHERE id = ?1

-- name: begin_run
-- ?1 the run, ?2 time: a worker began it.
UPDATE pgqrs_runs SET status = 'RUNNING', attempts = attempts + 1, started_at = ?2, updated_at = ?2 WHERE id = ?1

-- name: insert_step
-- A step whose execution under a step lease ended: acquired (its seq the run's highest plus one,
-- one attempt), then finished, its lease cleared. ?1 the run, ?2 step id, ?3 status, ?4 output,
-- ?5 output type, ?6 error, ?7 due time of a RETRY or WAITING step or NULL, ?8 awaited signal,
-- ?9 time; a SUCCESS or ERROR step finished then.
INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, wake_at, awaiting,
                         started_at, updated_at, finished_at, seq)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?9, CASE WHEN ?3 IN ('SUCCESS', 'ERROR') THEN ?9 END,
       coalesce(max(seq), 0) + 1
FROM pgqrs_steps WHERE run_id = ?1

-- name: insert_running_step
-- A step a worker holds under a step lease, as acquiring it left it: RUNNING in its first attempt,
-- ?3 the lease token, ?4 the lease's end. ?1 the run, ?2 step id, ?5 time.
INSERT INTO pgqrs_steps (run_id, step_id, status, attempts, lease_token, lease_until, started_at, updated_at, seq)
SELECT ?1, ?2, 'RUNNING', 1, ?3, ?4, ?5, ?5, coalesce(max(seq), 0) + 1
FROM pgqrs_steps WHERE run_id = ?1

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

-- name: find_message
-- A message as the driver's find_message reads it, in the old schema, which has no group_key or headers.
SELECT m.id, m.payload, m.state, m.priority, m.attempts, m.enqueued_at, m.visible_at, m.lease_token,
       m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at, NULL AS group_key, NULL AS headers, q.name AS queue
FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id
WHERE m.id = ?1

-- name: list_messages
-- The messages of queue ?1 in state ?2 as the driver's list_messages reads them, in the old schema.
SELECT m.id, m.payload, m.state, m.priority, m.attempts, m.enqueued_at, m.visible_at, m.lease_token,
       m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at, NULL AS group_key, NULL AS headers
FROM pgqrs_messages m
WHERE m.queue_id = (SELECT id FROM pgqrs_queues WHERE name = ?1) AND m.state = ?2
ORDER BY m.id
