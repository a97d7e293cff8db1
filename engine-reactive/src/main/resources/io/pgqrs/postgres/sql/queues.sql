-- pgqrs on PostgreSQL: the statements of pgqrs_queues.

-- name: create_queue
-- A name taken already inserts nothing and returns no row. $4 the concurrency limit or NULL, $5
-- the claim rate or NULL, whose bucket starts full, $6 the per-key limit or NULL.
INSERT INTO {{schema}}.pgqrs_queues (name, max_attempts, max_leased, claim_rate, claim_tokens, claim_tokens_at,
                                     created_at, max_leased_per_key)
VALUES ($2, $3, $4, $5, $5, {{_now}}, {{_now}}, $6)
ON CONFLICT (name) DO NOTHING
RETURNING id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key

-- name: create_queue_if_absent
-- A workflow's queue: registering the workflow again leaves it as it is.
INSERT INTO {{schema}}.pgqrs_queues (name, max_attempts, created_at) VALUES ($2, $3, {{_now}})
ON CONFLICT (name) DO NOTHING

-- name: find_queue
SELECT id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key FROM {{schema}}.pgqrs_queues WHERE name = $1

-- name: configure_queue
-- $2 the new max attempts or NULL to keep it, $3 the concurrency limit or NULL for none, $4 the
-- claim rate or NULL for none; a changed rate starts with a full bucket; $5 the per-key limit or
-- NULL for none. No row for an unknown queue.
UPDATE {{schema}}.pgqrs_queues
SET max_attempts = coalesce($2, max_attempts), max_leased = $3,
    claim_tokens = CASE WHEN claim_rate IS NOT DISTINCT FROM $4 THEN claim_tokens ELSE $4 END,
    claim_tokens_at = CASE WHEN claim_rate IS NOT DISTINCT FROM $4 THEN claim_tokens_at ELSE now() END,
    claim_rate = $4, max_leased_per_key = $5
WHERE name = $1
RETURNING id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key

-- name: list_queues
SELECT id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key FROM {{schema}}.pgqrs_queues ORDER BY name

-- name: lock_queue
-- Row lock, so no message or worker joins the queue while its deletion counts what uses it.
SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $1 FOR UPDATE

-- name: count_queue_use
SELECT (SELECT count(*) FROM {{schema}}.pgqrs_messages WHERE queue_id = $1 AND state = 'live') AS live,
       (SELECT count(*) FROM {{schema}}.pgqrs_workers WHERE queue_id = $1 AND status <> 'stopped') AS workers

-- name: delete_queue
DELETE FROM {{schema}}.pgqrs_queues WHERE id = $1

-- name: queue_throughput
-- Archived messages of the queue $2 per interval of $4 microseconds over the $3 microseconds
-- up to now, through pgqrs_archive_queue_idx (queue_id, archived_at).
-- An interval is (start, end]: a message archived at this very instant counts. No row: no such
-- queue; one row with a NULL bucket: nothing archived in the window.
WITH n AS (SELECT {{_now}} AS now),
w AS (SELECT now, now - $3::bigint * interval '1 microsecond' AS since FROM n),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2)
SELECT w.now, b.bucket, b.archived
FROM w CROSS JOIN q
LEFT JOIN LATERAL (
    SELECT floor((extract(epoch FROM m.archived_at - w.since) * 1000000 - 1) / $4::bigint)::bigint AS bucket,
           count(*) AS archived
    FROM {{schema}}.pgqrs_archive m
    WHERE m.queue_id = q.id AND m.archived_at > w.since AND m.archived_at <= w.now
    GROUP BY 1) b ON true
ORDER BY b.bucket

-- name: queue_metrics
-- timestamptz arithmetic; SQLite computes the same over integer microseconds. The archive is a
-- table of its own (migration 16), counted per queue through its index.
WITH n AS (SELECT {{_now}} AS now)
SELECT q.name,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at <= n.now) AS pending,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NOT NULL)
           AS leased,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NULL)
           AS delayed,
       (SELECT count(*) FROM {{schema}}.pgqrs_archive a WHERE a.queue_id = q.id) AS archived,
       count(m.id) FILTER (WHERE m.state = 'dead') AS dead,
       (extract(epoch FROM (n.now - min(m.visible_at) FILTER (WHERE m.state = 'live'
           AND m.visible_at <= n.now))) * 1000)::bigint AS oldest_pending_ms
FROM n CROSS JOIN {{schema}}.pgqrs_queues q LEFT JOIN {{schema}}.pgqrs_messages m ON m.queue_id = q.id
WHERE $2::text IS NULL OR q.name = $2
GROUP BY q.id, q.name, n.now
ORDER BY q.name
