-- pgqrs SQLite statements of pgqrs_runs. ?1 is the clock override where a statement reads the
-- clock (see schema.sql). No FOR UPDATE: a unit of work that reads a run to change it runs in a
-- transaction whose BEGIN IMMEDIATE holds the database's one write lock.
--
-- A run's status changes only by a transition table of the engine's run state machine, bound as a
-- JSON object from status to status ({"QUEUED": "RUNNING", ...}): a run whose status is a key takes
-- its value, json_extract(table, '$.' || status), and a run whose status is no key (the lookup is
-- NULL) does not move. These statements decide no transition of their own.

-- name: _run_columns
id, workflow, status, input, output, error, idempotency_key, attempts, failures, created_at, started_at,
finished_at, deadline_at, version, parent_run_id, forked_from

-- name: trigger_run
-- Inserts the run; enqueue_run_message and link_run_message follow in the same transaction, since
-- SQLite has neither data-modifying CTEs nor nextval() to draw both ids first. ?5 is the timeout
-- in microseconds or NULL; min() of a NULL is NULL, so then is the deadline. ?6 is the version, or
-- NULL. ?7 is 1 when a local worker takes the run's message at once (the trigger's lease): the run
-- is then inserted begun, RUNNING in its first attempt. An idempotency conflict inserts nothing and
-- returns no row. The two statuses are the ones StoreParams.TriggerRun and LeaseTaking give a new
-- run, not a transition: no run exists yet to move. ?8 the parent run or NULL and ?9 whether the
-- parent's cancel cancels it (1 or 0): a child is linked in the statement that creates it.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_runs (workflow, status, input, idempotency_key, created_at, updated_at, deadline_at, version,
                        attempts, started_at, parent_run_id, cancel_with_parent)
SELECT ?2, CASE WHEN ?7 = 1 THEN 'RUNNING' ELSE 'QUEUED' END, ?3, ?4, n.now, n.now,
       n.now + min(?5, {{_never}} - n.now), ?6, CASE WHEN ?7 = 1 THEN 1 ELSE 0 END, CASE WHEN ?7 = 1 THEN n.now END,
       ?8, ?9
FROM n WHERE true
ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING {{_run_columns}}

-- name: link_run_message
UPDATE pgqrs_runs SET message_id = ?2 WHERE id = ?1

-- name: run_by_key
SELECT id FROM pgqrs_runs WHERE workflow = ?1 AND idempotency_key = ?2

-- name: begin_run
-- The begin table ?3 moves the run ?2 (see the top of this file); only a run it moves counts an
-- attempt and gets its start time, any other is returned unchanged. The statement's
-- now comes back so the driver can tell how long the run has until its deadline, and with it the
-- run's history: its recorded steps (SUCCESS, ERROR, RETRY, WAITING) as one JSON array, in
-- completion and then position order, each RETRY or WAITING one with what is left of its wait by
-- that now (never negative; NULL without a due time), each WAITING one with whether a signal it
-- waits for is pending. One statement, so one round trip on Hrana:
-- RETURNING takes subqueries. Their columns are qualified: unqualified ones would be the run's.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_runs
SET attempts = attempts + CASE WHEN json_extract(?3, '$.' || status) IS NOT NULL THEN 1 ELSE 0 END,
    started_at = CASE WHEN json_extract(?3, '$.' || status) IS NOT NULL THEN coalesce(started_at, n.now)
                      ELSE started_at END,
    status = coalesce(json_extract(?3, '$.' || status), status),
    updated_at = n.now
FROM n
WHERE id = ?2
RETURNING {{_run_columns}}, (SELECT now FROM n) AS now,
    (SELECT json_group_array(json_object(
         'position', h.position, 'step_id', h.step_id, 'status', h.status, 'output', h.output,
         'output_type', h.output_type, 'error', h.error, 'attempts', h.attempts,
         'until_wake', CASE WHEN h.status IN ('RETRY', 'WAITING') THEN max(0, h.wake_at - (SELECT now FROM n)) END,
         'awaiting', h.awaiting, 'completion', h.completion,
         'signalled', json(CASE WHEN h.status = 'WAITING' AND EXISTS (
             SELECT 1 FROM pgqrs_signals g WHERE g.run_id = ?2 AND g.name = h.awaiting AND g.consumed_by IS NULL)
             THEN 'true' ELSE 'false' END)))
     FROM (SELECT st.position, st.step_id, st.status, st.output, st.output_type, st.error, st.attempts,
                  st.wake_at, st.awaiting, st.completion
           FROM pgqrs_steps st
           WHERE st.run_id = ?2 AND st.status IN ('SUCCESS', 'ERROR', 'RETRY', 'WAITING')
           ORDER BY st.completion, st.position) AS h) AS history

-- name: run_statuses
-- The time of a batch of step records for its later statements (record_step), and the status of
-- each of their runs ?2 (a JSON array of ids) that exists: at least one row, with NULL id and
-- status when none does.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT n.now, r.id, r.status
FROM n LEFT JOIN pgqrs_runs r ON r.id IN (SELECT value FROM json_each(?2))

-- name: lock_run
-- A run read to be changed, the queue of its message (the workflow's, or its version's) to wake,
-- and the time of the unit of work for its later statements. BEGIN IMMEDIATE already holds the
-- write lock, so this read is what FOR UPDATE makes it on PostgreSQL: nobody changes the run until
-- the commit.
SELECT {{_run_columns}}, message_id, coalesce(?1, {{_now}}) AS now,
       (SELECT q.name FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id
        WHERE m.id = pgqrs_runs.message_id) AS queue
FROM pgqrs_runs WHERE id = ?2

-- name: count_failure
UPDATE pgqrs_runs SET failures = failures + 1, updated_at = coalesce(?1, {{_now}}) WHERE id = ?2

-- name: finish_run
-- After the run's message was archived in the same transaction (archive, fenced by the lease, or
-- archive_unleased): no data-modifying CTEs to do both in one statement. The finish table ?3 moves
-- the run ?2, and a run it does not move is not changed. What follows from the target is the
-- contract of StoreParams.FinishRun, not a transition: the output ?4 is recorded only by a move to
-- SUCCESS, the error ?5 only by a move to ERROR (a move to CANCELLED keeps the reason its cancel
-- recorded), and every target of a finish is a finished status, so the run gets its end time.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_runs
SET output = CASE WHEN json_extract(?3, '$.' || status) = 'SUCCESS' THEN ?4 ELSE output END,
    error = CASE WHEN json_extract(?3, '$.' || status) = 'ERROR' THEN ?5 ELSE error END,
    finished_at = n.now, updated_at = n.now,
    status = json_extract(?3, '$.' || status)
FROM n
WHERE id = ?2 AND json_extract(?3, '$.' || status) IS NOT NULL
RETURNING status

-- name: move_run
-- A control's table ?3 (the one the driver picked) moves the run ?2 as one compare-and-set; a run
-- it does not move is not changed and no row comes back. ?4 is an error to record (a cancel's
-- reason, a pause's cause), NULL to keep the run's; ?5 is 1 when the target is a finished status,
-- which gives the run its end time.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_runs
SET status = json_extract(?3, '$.' || status), error = coalesce(?4, error),
    finished_at = CASE WHEN ?5 = 1 THEN n.now ELSE finished_at END, updated_at = n.now
FROM n
WHERE id = ?2 AND json_extract(?3, '$.' || status) IS NOT NULL
RETURNING {{_run_columns}}

-- name: find_run
SELECT {{_run_columns}} FROM pgqrs_runs WHERE id = ?1

-- name: find_runs
-- ?1 the runs, a JSON array.
SELECT {{_run_columns}} FROM pgqrs_runs WHERE id IN (SELECT value FROM json_each(?1))

-- name: list_runs
SELECT {{_run_columns}} FROM pgqrs_runs
WHERE (?1 IS NULL OR workflow = ?1) AND (?2 IS NULL OR status = ?2)
  AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at < ?4)
  AND (?5 IS NULL OR id < ?5) AND (?7 IS NULL OR parent_run_id = ?7)
ORDER BY id DESC
LIMIT ?6

-- name: link_child_run
-- Names the parent of a run started by RunContext.child (?1 the child, ?2 the parent, ?3 1 when the
-- parent's cancel cancels it). Idempotent: a replay of the parent links the same child again.
UPDATE pgqrs_runs SET parent_run_id = ?2, cancel_with_parent = ?3
WHERE id = ?1 AND (parent_run_id IS NULL OR parent_run_id = ?2)

-- name: children_cancelled_with_parent
-- The unfinished children of ?1 that its cancel cancels; the statuses are those
-- RunStatus.isFinished() names.
SELECT id FROM pgqrs_runs
WHERE parent_run_id = ?1 AND cancel_with_parent = 1 AND status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')
ORDER BY id

-- name: uncancelled_children
-- The run reaper's cascade repair (?1 the most, ?2 the parent's statuses and ?3 the child's, JSON
-- arrays the engine's state machine names): children linked with cancel_with_parent whose parent is
-- cancelled or being cancelled and that no cancel has reached.
SELECT c.id, c.parent_run_id FROM pgqrs_runs c JOIN pgqrs_runs p ON p.id = c.parent_run_id
WHERE c.parent_run_id IS NOT NULL AND c.cancel_with_parent = 1
  AND c.status IN (SELECT value FROM json_each(?3)) AND p.status IN (SELECT value FROM json_each(?2))
ORDER BY c.id
LIMIT ?1

-- name: finished_runs
-- ?2 retention in microseconds, ?3 the most runs. The statuses are the finished ones
-- (RunStatus.isFinished()), a definition of the API and no transition, written as the predicate of
-- the partial index pgqrs_runs_finished_idx so that the index serves the purge.
SELECT id FROM pgqrs_runs
WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED') AND finished_at < coalesce(?1, {{_now}}) - ?2
ORDER BY finished_at
LIMIT ?3

-- name: delete_runs
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_runs WHERE id IN (SELECT value FROM json_each(?1))

-- name: stuck_runs
-- ?2 the most runs, ?3 the reap table: only a run it moves is reaped. Runs no worker will finish:
-- past their deadline while nobody holds their message (a worker holding one enforces the deadline
-- itself), or whose message was dead-lettered.
SELECT r.id, r.message_id, (r.deadline_at IS NOT NULL AND r.deadline_at <= coalesce(?1, {{_now}})) AS timed_out
FROM pgqrs_runs r LEFT JOIN pgqrs_messages m ON m.id = r.message_id
WHERE json_extract(?3, '$.' || r.status) IS NOT NULL
  AND ((r.deadline_at <= coalesce(?1, {{_now}})
        AND (m.id IS NULL OR m.state <> 'live' OR m.lease_token IS NULL OR m.visible_at <= coalesce(?1, {{_now}})))
       OR m.state = 'dead')
ORDER BY r.id
LIMIT ?2

-- name: fail_runs
-- ?2 the runs, ?3 those of them that timed out, both JSON arrays; ?4 the reap table, which moves
-- them (stuck_runs found them in the same transaction). As with finish_run, the error is recorded
-- only by a move to ERROR (a run that was being cancelled keeps its reason), and the run gets its
-- end time.
UPDATE pgqrs_runs
SET error = CASE WHEN json_extract(?4, '$.' || status) <> 'ERROR' THEN error
                 WHEN id IN (SELECT value FROM json_each(?3)) THEN 'the run timed out: its deadline passed'
                 ELSE 'its trigger message was dead-lettered after repeated failed deliveries' END,
    status = json_extract(?4, '$.' || status),
    finished_at = coalesce(?1, {{_now}}), updated_at = coalesce(?1, {{_now}})
WHERE id IN (SELECT value FROM json_each(?2)) AND json_extract(?4, '$.' || status) IS NOT NULL

-- name: restart_run_steps
-- An operator's restart (see StoreParams.RestartRun), in the transaction that locked the run ?1:
-- its step records other than SUCCESS are deleted, so those steps execute again.
DELETE FROM pgqrs_steps WHERE run_id = ?1 AND status <> 'SUCCESS'

-- name: restart_run
-- The locked run ?2 moved from ?3 to ?4 (its restart table's target), its outcome cleared, its
-- deadline its timeout again from the unit of work's time ?1, its new message ?5 linked.
UPDATE pgqrs_runs
SET status = ?4, output = NULL, error = NULL, finished_at = NULL, failures = 0, awaited = 1, message_id = ?5,
    updated_at = ?1,
    deadline_at = CASE WHEN deadline_at IS NULL THEN NULL ELSE ?1 + (deadline_at - created_at) END
WHERE id = ?2 AND status = ?3
RETURNING {{_run_columns}}

-- name: fork_run
-- An operator's fork (see StoreParams.ForkRun) of the locked run ?2: a new QUEUED run of its
-- workflow, version and input at the unit of work's time ?1, its deadline the original's timeout
-- from then; its message follows (enqueue_run_message, link_run_message).
INSERT INTO pgqrs_runs (workflow, status, input, created_at, updated_at, deadline_at, version, awaited, forked_from)
SELECT workflow, 'QUEUED', input, ?1, ?1,
       CASE WHEN deadline_at IS NULL THEN NULL ELSE ?1 + (deadline_at - created_at) END, version, 1, id
FROM pgqrs_runs WHERE id = ?2
RETURNING {{_run_columns}}

-- name: fork_step_completion
-- The completion number of the step ?2 of run ?1 (0 if it never completed); no row for no such step.
SELECT completion FROM pgqrs_steps WHERE run_id = ?1 AND step_id = ?2

-- name: fork_steps
-- Copies into run ?2 the SUCCESS steps of run ?3 completed before the completion number ?4 (every
-- completed one when ?4 is 0), at the unit of work's time ?1.
INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, position, completion,
                         awaiting, wake_at, started_at, updated_at, finished_at, seq)
SELECT ?2, step_id, status, output, output_type, error, attempts, position, completion, NULL, NULL, started_at, ?1,
       finished_at, seq
FROM pgqrs_steps
WHERE run_id = ?3 AND status = 'SUCCESS' AND completion > 0 AND (?4 = 0 OR completion < ?4)

-- name: fork_events
-- Copies into run ?1 the events of run ?2 written by the steps copied to it, in their order.
INSERT INTO pgqrs_run_events (run_id, key, position, value, created_at)
SELECT ?1, e.key, e.position, e.value, e.created_at
FROM pgqrs_run_events e
WHERE e.run_id = ?2 AND e.position IN (SELECT position FROM pgqrs_steps WHERE run_id = ?1)
ORDER BY e.seq
