-- pgqrs SQLite: the statements of the maintenance services. Instants are INTEGER microseconds
-- since the epoch; ?1 is the clock override of every statement that reads the clock, falling back
-- to the database's clock, so stores on several hosts sharing a Turso database agree on ages.
-- Each statement, or each transaction of a few, touches at most its batch limit of rows, so no
-- service holds the writer for more than one bounded batch.

-- name: _now
coalesce(?1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))

-- name: takeTurn
-- ?2 service, ?3 force (1 or 0), ?4 interval in microseconds, ?5 instance. The single writer
-- serialises turns: a store that waited for the writer sees next_run_at moved on and takes nothing.
UPDATE pgqrs_sweeps
SET next_run_at = {{_now}} + ?4, last_run_at = {{_now}}, last_instance = ?5, runs = runs + 1
WHERE name = ?2 AND (?3 OR next_run_at <= {{_now}})
RETURNING last_run_at AS now

-- name: turnNotTaken
-- ?2 service. The clock for a turn not taken, and whether the service has a row at all.
SELECT {{_now}} AS now, EXISTS (SELECT 1 FROM pgqrs_sweeps WHERE name = ?2) AS known

-- name: schedules
SELECT name, next_run_at, last_run_at, last_instance, runs FROM pgqrs_sweeps ORDER BY name

-- name: stopStaleWorkers
-- ?2 stale threshold in microseconds, ?3 the most workers.
UPDATE pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, {{_now}})
WHERE id IN (
    SELECT id FROM pgqrs_workers
    WHERE status IN ('ready', 'suspended') AND heartbeat_at < {{_now}} - ?2
    ORDER BY id
    LIMIT ?3)
RETURNING id

-- name: releaseLeasesOfWorkers
-- ?2 the workers, a JSON array. Only unexpired leases: an expired one is claimable anyway.
UPDATE pgqrs_messages
SET visible_at = {{_now}}, lease_token = NULL, lease_owner = NULL,
    last_error = 'worker ' || lease_owner || ' stopped heartbeating'
WHERE lease_owner IN (SELECT value FROM json_each(?2))
  AND state = 'live' AND lease_token IS NOT NULL AND visible_at > {{_now}}
RETURNING queue_id

-- name: queueNames
-- ?1 the queues, a JSON array of ids.
SELECT name FROM pgqrs_queues WHERE id IN (SELECT value FROM json_each(?1))

-- name: purgeArchived
-- ?2 retention in microseconds, ?3 the most rows.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE state = 'archived' AND archived_at < {{_now}} - ?2
    ORDER BY archived_at
    LIMIT ?3)

-- name: purgeDeadLetters
-- ?2 retention in microseconds, ?3 the most rows.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE state = 'dead' AND dead_at < {{_now}} - ?2
    ORDER BY dead_at
    LIMIT ?3)

-- name: finishedRuns
-- ?2 retention in microseconds, ?3 the most runs.
SELECT id FROM pgqrs_runs
WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED') AND finished_at < {{_now}} - ?2
ORDER BY finished_at
LIMIT ?3

-- name: deleteStepsOfRuns
-- ?1 the runs, a JSON array. Deleted explicitly (not left to ON DELETE CASCADE) to be counted.
DELETE FROM pgqrs_steps WHERE run_id IN (SELECT value FROM json_each(?1))

-- name: deleteSignalsOfRuns
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_signals WHERE run_id IN (SELECT value FROM json_each(?1))

-- name: deleteRuns
-- ?1 the runs, a JSON array.
DELETE FROM pgqrs_runs WHERE id IN (SELECT value FROM json_each(?1))

-- name: purgeStoppedWorkers
-- ?2 retention in microseconds, ?3 the most workers. A worker some live message still names as its
-- lease holder, even with an expired lease, is kept: nothing refers to a deleted worker, and the id
-- of a deleted worker (SQLite may reuse the highest) never meets an old lease.
DELETE FROM pgqrs_workers WHERE id IN (
    SELECT w.id FROM pgqrs_workers w
    WHERE w.status = 'stopped' AND coalesce(w.stopped_at, w.heartbeat_at) < {{_now}} - ?2
      AND NOT EXISTS (SELECT 1 FROM pgqrs_messages m WHERE m.state = 'live' AND m.lease_owner = w.id)
    ORDER BY w.id
    LIMIT ?3)

-- name: stuckRuns
-- ?2 the most runs. Runs no worker will finish: past their deadline while nobody holds their
-- message (a worker holding one enforces the deadline itself), or whose message was dead-lettered.
SELECT r.id, r.message_id, (r.deadline_at IS NOT NULL AND r.deadline_at <= {{_now}}) AS timed_out
FROM pgqrs_runs r LEFT JOIN pgqrs_messages m ON m.id = r.message_id
WHERE r.status IN ('QUEUED', 'RUNNING', 'PAUSED', 'CANCELLING')
  AND ((r.deadline_at <= {{_now}}
        AND (m.id IS NULL OR m.state <> 'live' OR m.lease_token IS NULL OR m.visible_at <= {{_now}}))
       OR m.state = 'dead')
ORDER BY r.id
LIMIT ?2

-- name: archiveMessagesOfRuns
-- ?2 the messages, a JSON array.
UPDATE pgqrs_messages SET state = 'archived', archived_at = {{_now}}, lease_token = NULL, lease_owner = NULL
WHERE id IN (SELECT value FROM json_each(?2)) AND state = 'live'

-- name: failRuns
-- ?2 the runs, ?3 those of them that timed out, both JSON arrays.
UPDATE pgqrs_runs
SET error = CASE WHEN status = 'CANCELLING' THEN error
                 WHEN id IN (SELECT value FROM json_each(?3)) THEN 'the run timed out: its deadline passed'
                 ELSE 'its trigger message was dead-lettered after repeated failed deliveries' END,
    status = CASE WHEN status = 'CANCELLING' THEN 'CANCELLED' ELSE 'ERROR' END,
    finished_at = {{_now}}, updated_at = {{_now}}
WHERE id IN (SELECT value FROM json_each(?2))
