-- pgqrs PostgreSQL: the statements of the maintenance services, each one short autocommit
-- statement. {{schema}} is the quoted schema; $1 is the clock override of every statement that
-- reads the clock, falling back to the transaction's.

-- name: _now
coalesce($1::timestamptz, now())

-- name: _liveLease
m.state = 'live' AND m.lease_token IS NOT NULL AND m.visible_at > n.now

-- name: takeTurn
-- $2 service, $3 force, $4 interval in milliseconds, $5 instance. SKIP LOCKED: an instance that
-- finds another one taking the turn skips instead of queueing behind it, and a row whose
-- next_run_at moved into the future meanwhile is re-checked on the latest version and skipped. One
-- row always comes back, with the clock, so a turn not taken still reports when it looked.
WITH n AS (SELECT {{_now}} AS now),
due AS (
    SELECT s.name FROM {{schema}}.pgqrs_sweeps s
    WHERE s.name = $2 AND ($3::boolean OR s.next_run_at <= (SELECT now FROM n))
    FOR UPDATE OF s SKIP LOCKED),
taken AS (
    UPDATE {{schema}}.pgqrs_sweeps s
    SET next_run_at = n.now + $4 * interval '1 millisecond', last_run_at = n.now, last_instance = $5,
        runs = s.runs + 1
    FROM n, due
    WHERE s.name = due.name
    RETURNING s.name)
SELECT n.now, (SELECT count(*) FROM taken) AS taken,
       EXISTS (SELECT 1 FROM {{schema}}.pgqrs_sweeps WHERE name = $2) AS known
FROM n

-- name: schedules
SELECT name, next_run_at, last_run_at, last_instance, runs FROM {{schema}}.pgqrs_sweeps ORDER BY name

-- name: rescueStaleWorkers
-- $2 stale threshold in milliseconds, $3 the most workers. Stops stale workers and releases their
-- unexpired leases in one statement. FOR UPDATE, not SKIP LOCKED: a worker row locked elsewhere is
-- being heartbeated or shut down, so this waits and re-checks it instead of guessing; a worker
-- stopped meanwhile by another instance no longer matches. The queues of the released messages
-- come back so their consumers can be woken.
WITH n AS (SELECT {{_now}} AS now),
stale AS (
    UPDATE {{schema}}.pgqrs_workers w SET status = 'stopped', stopped_at = coalesce(w.stopped_at, n.now)
    FROM n
    WHERE w.id IN (
            SELECT c.id FROM {{schema}}.pgqrs_workers c
            WHERE c.status IN ('ready', 'suspended')
              AND c.heartbeat_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
            ORDER BY c.id
            LIMIT $3
            FOR UPDATE OF c)
      AND w.status IN ('ready', 'suspended') AND w.heartbeat_at < n.now - $2 * interval '1 millisecond'
    RETURNING w.id),
released AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET visible_at = n.now, lease_token = NULL, lease_owner = NULL,
        last_error = 'worker ' || m.lease_owner || ' stopped heartbeating'
    FROM n, stale
    WHERE m.lease_owner = stale.id AND {{_liveLease}}
    RETURNING m.queue_id)
SELECT (SELECT count(*) FROM stale) AS workers, (SELECT count(*) FROM released) AS released,
       (SELECT array_agg(DISTINCT q.name) FROM {{schema}}.pgqrs_queues q
        WHERE q.id IN (SELECT queue_id FROM released)) AS queues

-- name: notifyChannels
-- $1 the channels. Delivered when the statement commits.
SELECT pg_notify(c, '') FROM unnest($1::text[]) AS c

-- name: purgeArchived
-- $2 retention in milliseconds, $3 the most rows. SKIP LOCKED: concurrent purges take disjoint rows.
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT m.id FROM {{schema}}.pgqrs_messages m
    WHERE m.state = 'archived' AND m.archived_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
    ORDER BY m.archived_at
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED),
d AS (DELETE FROM {{schema}}.pgqrs_messages m USING victims v WHERE m.id = v.id RETURNING 1)
SELECT count(*) AS purged FROM d

-- name: purgeDeadLetters
-- $2 retention in milliseconds, $3 the most rows.
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT m.id FROM {{schema}}.pgqrs_messages m
    WHERE m.state = 'dead' AND m.dead_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
    ORDER BY m.dead_at
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED),
d AS (DELETE FROM {{schema}}.pgqrs_messages m USING victims v WHERE m.id = v.id RETURNING 1)
SELECT count(*) AS purged FROM d

-- name: purgeFinishedRuns
-- $2 retention in milliseconds, $3 the most runs. Steps and signals are deleted explicitly (not
-- left to ON DELETE CASCADE) so that they are counted; the cascade then finds nothing left.
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT r.id FROM {{schema}}.pgqrs_runs r
    WHERE r.status IN ('SUCCESS', 'ERROR', 'CANCELLED')
      AND r.finished_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
    ORDER BY r.finished_at
    LIMIT $3
    FOR UPDATE OF r SKIP LOCKED),
steps AS (DELETE FROM {{schema}}.pgqrs_steps s USING victims v WHERE s.run_id = v.id RETURNING 1),
signals AS (DELETE FROM {{schema}}.pgqrs_signals g USING victims v WHERE g.run_id = v.id RETURNING 1),
runs AS (DELETE FROM {{schema}}.pgqrs_runs r USING victims v WHERE r.id = v.id RETURNING 1)
SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM steps) AS steps,
       (SELECT count(*) FROM signals) AS signals

-- name: purgeStoppedWorkers
-- $2 retention in milliseconds, $3 the most workers. A worker some live message still names as
-- its lease holder, even with an expired lease, is kept: nothing refers to a deleted worker.
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT w.id FROM {{schema}}.pgqrs_workers w
    WHERE w.status = 'stopped'
      AND coalesce(w.stopped_at, w.heartbeat_at) < (SELECT now FROM n) - $2 * interval '1 millisecond'
      AND NOT EXISTS (SELECT 1 FROM {{schema}}.pgqrs_messages m WHERE m.state = 'live' AND m.lease_owner = w.id)
    ORDER BY w.id
    LIMIT $3
    FOR UPDATE OF w SKIP LOCKED),
d AS (DELETE FROM {{schema}}.pgqrs_workers w USING victims v WHERE w.id = v.id RETURNING 1)
SELECT count(*) AS purged FROM d

-- name: reapRuns
-- $2 the most runs, $3 the channel announcing finished runs. Runs no worker will finish: past
-- their deadline while nobody holds their message (a worker holding one enforces the deadline
-- itself), or whose message was dead-lettered. Their live messages are archived; the
-- announcements are delivered at commit.
WITH n AS (SELECT {{_now}} AS now),
due AS (
    SELECT r.id, r.message_id, coalesce(r.deadline_at <= n.now, false) AS timed_out
    FROM n, {{schema}}.pgqrs_runs r LEFT JOIN {{schema}}.pgqrs_messages m ON m.id = r.message_id
    WHERE r.status IN ('QUEUED', 'RUNNING', 'PAUSED', 'CANCELLING')
      AND ((r.deadline_at <= n.now
            AND (m.id IS NULL OR m.state <> 'live' OR m.lease_token IS NULL OR m.visible_at <= n.now))
           OR m.state = 'dead')
    ORDER BY r.id
    LIMIT $2
    FOR UPDATE OF r SKIP LOCKED),
arch AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET state = 'archived', archived_at = n.now, lease_token = NULL, lease_owner = NULL
    FROM due, n
    WHERE m.id = due.message_id AND m.state = 'live'
    RETURNING m.id),
upd AS (
    UPDATE {{schema}}.pgqrs_runs r
    SET status = CASE WHEN r.status = 'CANCELLING' THEN 'CANCELLED' ELSE 'ERROR' END,
        error = CASE WHEN r.status = 'CANCELLING' THEN r.error
                     WHEN due.timed_out THEN 'the run timed out: its deadline passed'
                     ELSE 'its trigger message was dead-lettered after repeated failed deliveries' END,
        finished_at = n.now, updated_at = n.now
    FROM due, n
    WHERE r.id = due.id
    RETURNING r.id),
note AS (SELECT pg_notify($3, id::text) FROM upd)
SELECT (SELECT count(*) FROM upd) AS failed, (SELECT count(*) FROM note) AS notified,
       (SELECT count(*) FROM arch) AS archived
