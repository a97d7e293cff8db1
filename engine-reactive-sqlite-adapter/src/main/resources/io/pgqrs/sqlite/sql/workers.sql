-- pgqrs SQLite statements of pgqrs_workers. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: _worker_columns
w.id, w.name, q.name AS queue, w.hostname, w.pid, w.status, w.started_at, w.heartbeat_at, w.stopped_at

-- name: register_worker
-- The queue, if any, was looked up by lock_queue in the same transaction (?3 is its id or NULL),
-- and the new row is read back with find_worker: no data-modifying CTE to do it in one statement.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_workers (name, queue_id, hostname, pid, status, started_at, heartbeat_at)
SELECT ?2, ?3, ?4, ?5, 'ready', n.now, n.now FROM n WHERE true
ON CONFLICT (name) DO NOTHING
RETURNING id

-- name: find_worker
SELECT {{_worker_columns}}
FROM pgqrs_workers w LEFT JOIN pgqrs_queues q ON q.id = w.queue_id
WHERE w.id = ?1

-- name: list_workers
SELECT {{_worker_columns}}
FROM pgqrs_workers w LEFT JOIN pgqrs_queues q ON q.id = w.queue_id
WHERE ?1 IS NULL OR q.name = ?1
ORDER BY w.id

-- name: heartbeat
-- SQLite's max() of two values is PostgreSQL's greatest(): a heartbeat never moves back in time.
UPDATE pgqrs_workers SET heartbeat_at = max(heartbeat_at, coalesce(?1, {{_now}})) WHERE id = ?2
RETURNING status

-- name: set_worker_status
-- The row is read back with find_worker in the same transaction: no data-modifying CTE.
UPDATE pgqrs_workers SET status = ?2 WHERE id = ?1 AND status <> 'stopped'

-- name: stop_worker
UPDATE pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, coalesce(?1, {{_now}}))
WHERE id = ?2

-- name: delete_worker
DELETE FROM pgqrs_workers WHERE id = ?1

-- name: worker_health
-- ?2 is how long a heartbeat may be missed, in microseconds; the time since the last heartbeat is
-- computed here in microseconds too (PostgreSQL returns milliseconds of an interval).
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT {{_worker_columns}},
       max(0, n.now - w.heartbeat_at) AS since_heartbeat_us,
       (w.status <> 'stopped' AND w.heartbeat_at < n.now - ?2) AS stale,
       (SELECT count(*) FROM pgqrs_messages WHERE lease_owner = w.id AND {{_live_lease}}) AS leases
FROM n CROSS JOIN pgqrs_workers w LEFT JOIN pgqrs_queues q ON q.id = w.queue_id
ORDER BY w.id

-- name: stop_stale_workers
-- ?2 stale threshold in microseconds, ?3 the most workers.
UPDATE pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, coalesce(?1, {{_now}}))
WHERE id IN (
    SELECT id FROM pgqrs_workers
    WHERE status IN ('ready', 'suspended') AND heartbeat_at < coalesce(?1, {{_now}}) - ?2
    ORDER BY id
    LIMIT ?3)
RETURNING id

-- name: purge_stopped_workers
-- ?2 retention in microseconds, ?3 the most workers. A worker some live message still names as its
-- lease holder, even with an expired lease, is kept: nothing refers to a deleted worker, and the id
-- of a deleted worker (SQLite may reuse the highest) never meets an old lease.
DELETE FROM pgqrs_workers WHERE id IN (
    SELECT w.id FROM pgqrs_workers w
    WHERE w.status = 'stopped' AND coalesce(w.stopped_at, w.heartbeat_at) < coalesce(?1, {{_now}}) - ?2
      AND NOT EXISTS (SELECT 1 FROM pgqrs_messages m WHERE m.state = 'live' AND m.lease_owner = w.id)
    ORDER BY w.id
    LIMIT ?3)
