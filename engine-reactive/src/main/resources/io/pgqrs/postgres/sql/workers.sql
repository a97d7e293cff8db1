-- pgqrs on PostgreSQL: the statements of pgqrs_workers.

-- name: _worker_columns
-- A worker row w with its queue's name; q is its queue, absent for a worker of no queue.
w.id, w.name, q.name AS queue, w.hostname, w.pid, w.status, w.started_at, w.heartbeat_at, w.stopped_at

-- name: register_worker
-- A data-modifying CTE: no row comes back when the name is taken or the queue $3 is unknown.
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $3) AS id),
w AS (
    INSERT INTO {{schema}}.pgqrs_workers (name, queue_id, hostname, pid, status, started_at, heartbeat_at)
    SELECT $2, q.id, $4, $5, 'ready', n.now, n.now FROM q, n
    WHERE $3::text IS NULL OR q.id IS NOT NULL
    ON CONFLICT (name) DO NOTHING
    RETURNING *)
SELECT {{_worker_columns}} FROM w LEFT JOIN {{schema}}.pgqrs_queues q ON q.id = w.queue_id

-- name: heartbeat
-- greatest: a heartbeat with an earlier clock override never moves the heartbeat back.
UPDATE {{schema}}.pgqrs_workers SET heartbeat_at = greatest(heartbeat_at, {{_now}}) WHERE id = $2 RETURNING status

-- name: set_worker_status
-- A data-modifying CTE: a stopped worker keeps its status, and its row comes back either way.
WITH u AS (UPDATE {{schema}}.pgqrs_workers SET status = $2 WHERE id = $1 AND status <> 'stopped' RETURNING *),
w AS (SELECT * FROM u
      UNION ALL
      SELECT * FROM {{schema}}.pgqrs_workers WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u))
SELECT {{_worker_columns}} FROM w LEFT JOIN {{schema}}.pgqrs_queues q ON q.id = w.queue_id

-- name: lock_worker
SELECT status FROM {{schema}}.pgqrs_workers WHERE id = $1 FOR UPDATE

-- name: stop_worker
UPDATE {{schema}}.pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, {{_now}}) WHERE id = $2

-- name: delete_worker
DELETE FROM {{schema}}.pgqrs_workers WHERE id = $1

-- name: find_worker
SELECT {{_worker_columns}} FROM {{schema}}.pgqrs_workers w LEFT JOIN {{schema}}.pgqrs_queues q ON q.id = w.queue_id
WHERE w.id = $1

-- name: list_workers
SELECT {{_worker_columns}} FROM {{schema}}.pgqrs_workers w LEFT JOIN {{schema}}.pgqrs_queues q ON q.id = w.queue_id
WHERE $1::text IS NULL OR q.name = $1
ORDER BY w.id

-- name: worker_health
-- timestamptz arithmetic; SQLite computes the same over integer microseconds.
WITH n AS (SELECT {{_now}} AS now)
SELECT {{_worker_columns}},
       (extract(epoch FROM (n.now - w.heartbeat_at)) * 1000)::bigint AS since_ms,
       (w.status <> 'stopped' AND w.heartbeat_at < n.now - $2 * interval '1 millisecond') AS stale,
       (SELECT count(*) FROM {{schema}}.pgqrs_messages m WHERE m.lease_owner = w.id AND {{_live_lease}}) AS leases
FROM n, {{schema}}.pgqrs_workers w LEFT JOIN {{schema}}.pgqrs_queues q ON q.id = w.queue_id
ORDER BY w.id

-- name: rescue_stale_workers
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
    WHERE m.lease_owner = stale.id AND {{_live_lease}}
    RETURNING m.queue_id)
SELECT (SELECT count(*) FROM stale) AS workers, (SELECT count(*) FROM released) AS released,
       (SELECT array_agg(DISTINCT q.name) FROM {{schema}}.pgqrs_queues q
        WHERE q.id IN (SELECT queue_id FROM released)) AS queues

-- name: purge_stopped_workers
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
