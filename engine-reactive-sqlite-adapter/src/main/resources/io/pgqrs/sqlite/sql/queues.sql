-- pgqrs SQLite statements of pgqrs_queues. ?1 is the clock override where a statement reads the
-- clock (see schema.sql).

-- name: create_queue
-- ?4 the concurrency limit or NULL, ?5 the claim rate or NULL, whose bucket starts full, ?6 the
-- per-key limit or NULL.
INSERT INTO pgqrs_queues (name, max_attempts, max_leased, claim_rate, claim_tokens, claim_tokens_at, created_at,
                          max_leased_per_key)
VALUES (?2, ?3, ?4, ?5, ?5, coalesce(?1, {{_now}}), coalesce(?1, {{_now}}), ?6)
ON CONFLICT (name) DO NOTHING
RETURNING id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key

-- name: register_queue
-- A workflow's queue, or the queue of one of its versions: created with the workflow unless it
-- exists already.
INSERT INTO pgqrs_queues (name, max_attempts, created_at) VALUES (?2, ?3, coalesce(?1, {{_now}}))
ON CONFLICT (name) DO NOTHING

-- name: find_queue
SELECT id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key FROM pgqrs_queues WHERE name = ?1

-- name: configure_queue
-- ?2 the new max attempts or NULL to keep it, ?3 the concurrency limit or NULL for none, ?4 the
-- claim rate or NULL for none; a changed rate starts with a full bucket. SET expressions read the
-- row as it was, so claim_rate is compared before it changes. ?5 the per-key limit or NULL for
-- none. No row for an unknown queue.
UPDATE pgqrs_queues
SET max_attempts = coalesce(?2, max_attempts), max_leased = ?3,
    claim_tokens = CASE WHEN claim_rate IS ?4 THEN claim_tokens ELSE ?4 END,
    claim_tokens_at = CASE WHEN claim_rate IS ?4 THEN claim_tokens_at ELSE {{_now}} END,
    claim_rate = ?4, max_leased_per_key = ?5
WHERE name = ?1
RETURNING id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key

-- name: list_queues
SELECT id, name, max_attempts, created_at, max_leased, claim_rate, max_leased_per_key FROM pgqrs_queues ORDER BY name

-- name: lock_queue
-- No FOR UPDATE: the transaction's BEGIN IMMEDIATE holds the write lock already. The queue is
-- looked up in a statement of its own because SQLite has no data-modifying CTEs to do it inside
-- the write, and the transaction's time is read here, once, for its later statements.
SELECT id, max_attempts, coalesce(?1, {{_now}}) AS now FROM pgqrs_queues WHERE name = ?2

-- name: lock_queue_to_claim
-- lock_queue for a claim, with the queue's concurrency limit, claim rate bucket and per-key limit.
SELECT id, max_attempts, max_leased, claim_rate, claim_tokens, claim_tokens_at, max_leased_per_key,
       coalesce(?1, {{_now}}) AS now
FROM pgqrs_queues WHERE name = ?2

-- name: take_claim_tokens
-- ?1 the queue, ?2 the tokens left, ?3 when.
UPDATE pgqrs_queues SET claim_tokens = ?2, claim_tokens_at = ?3 WHERE id = ?1

-- name: count_queue_use
SELECT (SELECT count(*) FROM pgqrs_messages WHERE queue_id = ?1 AND state = 'live') AS live,
       (SELECT count(*) FROM pgqrs_workers WHERE queue_id = ?1 AND status <> 'stopped') AS workers

-- name: delete_queue
DELETE FROM pgqrs_queues WHERE id = ?1

-- name: queue_names
-- The queues of a JSON array of ids: SQLite has no array parameters.
SELECT name FROM pgqrs_queues WHERE id IN (SELECT value FROM json_each(?1))

-- name: queue_throughput
-- Archived messages of the queue ?2 per interval of ?4 microseconds over the ?3 microseconds
-- up to now, through pgqrs_messages_archived_idx (queue_id, archived_at) WHERE state = 'archived'.
-- An interval is (start, end]: a message archived at this very instant counts. No row: no such
-- queue; one row with a NULL bucket: nothing archived in the window.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now),
q AS (SELECT id FROM pgqrs_queues WHERE name = ?2),
b AS (
    SELECT (m.archived_at - (n.now - ?3) - 1) / ?4 AS bucket, count(*) AS archived
    FROM n CROSS JOIN q JOIN pgqrs_messages m ON m.queue_id = q.id
    WHERE m.state = 'archived' AND m.archived_at > n.now - ?3 AND m.archived_at <= n.now
    GROUP BY 1)
SELECT n.now, b.bucket, b.archived
FROM n CROSS JOIN q LEFT JOIN b ON true
ORDER BY b.bucket

-- name: queue_metrics
-- The age of the oldest pending message is computed here in microseconds (PostgreSQL returns
-- milliseconds of an interval).
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT q.name,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at <= n.now) AS pending,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NOT NULL)
           AS leased,
       count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > n.now AND m.lease_token IS NULL)
           AS delayed,
       count(m.id) FILTER (WHERE m.state = 'archived') AS archived,
       count(m.id) FILTER (WHERE m.state = 'dead') AS dead,
       max(0, n.now - min(m.visible_at) FILTER (WHERE m.state = 'live' AND m.visible_at <= n.now))
           AS oldest_pending_us
FROM n CROSS JOIN pgqrs_queues q LEFT JOIN pgqrs_messages m ON m.queue_id = q.id
WHERE ?2 IS NULL OR q.name = ?2
GROUP BY q.id, n.now
ORDER BY q.name
