-- pgqrs SQLite statements of pgqrs_messages. ?1 is the clock override where a statement reads the
-- clock (see schema.sql). Claims need no SKIP LOCKED: the executor runs one unit of work at a time
-- and BEGIN IMMEDIATE holds the database's one write lock. Lists of ids come as JSON arrays read
-- with json_each: SQLite has no array parameters.

-- name: _message_columns
m.id, m.payload, m.state, m.priority, m.attempts, m.enqueued_at, m.visible_at, m.lease_token,
m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at, m.group_key, m.headers

-- name: _returning_message
RETURNING id, payload, state, priority, attempts, enqueued_at, visible_at, lease_token, lease_owner,
          dedup_key, last_error, archived_at, dead_at, group_key, headers

-- name: _fenced
-- The lease fence: ?2 is the message, ?3 the lease token, and the lease must not have expired.
id = ?2 AND lease_token = ?3 AND state = 'live' AND visible_at > coalesce(?1, {{_now}})

-- name: _live_lease
-- A message some worker holds, as of n.now.
state = 'live' AND lease_token IS NOT NULL AND visible_at > n.now

-- name: enqueue
-- One statement per message, in the transaction that looked the queue up: SQLite has no array
-- parameters to insert a batch at once. ?1 is the time lock_queue read, so all the messages of a
-- batch have one enqueue time. ?5 is an absolute visibility, ?6 a delay (either may be NULL); a
-- message is never visible before it was enqueued. A dedup conflict inserts nothing and returns no
-- row. The message is due (due_at, its place in the claim order) when it is first visible. ?8 is
-- the group key or NULL, ?9 the headers (a JSON object's text) or NULL.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now),
d AS (SELECT max(n.now, coalesce(?5, n.now + min(coalesce(?6, 0), {{_never}} - n.now))) AS due FROM n)
INSERT INTO pgqrs_messages (queue_id, payload, priority, enqueued_at, visible_at, due_at, dedup_key, group_key,
                            headers)
SELECT ?2, ?3, ?4, n.now, d.due, d.due, ?7, ?8, ?9
FROM n, d WHERE true
ON CONFLICT (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL DO NOTHING
RETURNING id

-- name: find_live_by_dedup_key
-- The message an enqueue with this dedup key joined; one key per statement, as enqueue inserts.
SELECT id FROM pgqrs_messages WHERE queue_id = ?1 AND state = 'live' AND dedup_key = ?2

-- name: claim_candidates
-- The rows a claim takes, in delivery order. No data-modifying CTEs in SQLite: choosing, leasing
-- (claim) and dead-lettering the exhausted (dead_letter_exhausted) are three statements of one
-- transaction, and the caller keeps this order, which UPDATE ... RETURNING does not. ?2 is the
-- queue's max attempts. The order is the time each message became due (due_at), which a lease
-- leaves alone: a message whose lease expired comes back at its old place, while visible_at (the
-- lease's end for a leased one) only tells whether it is claimable.
SELECT id, attempts >= ?2 AS exhausted FROM pgqrs_messages
WHERE queue_id = ?3 AND state = 'live' AND visible_at <= coalesce(?1, {{_now}})
ORDER BY priority DESC, due_at, id
LIMIT ?4

-- name: fair_claim_candidates
-- The candidates of a claim on a queue with per-key fairness: each key's (group_key's; the
-- messages without one are a group of their own) claimable rows numbered in claim order
-- (key_pos), at most ?4 of each key (no claim takes more), by key_pos and then claim order, so the
-- first rows of the keys come in the order of the keys. The caller orders the later rows by their
-- key's place (Turso has row_number but not first_value) and takes them while a key and the claim
-- have room. SQLite reads every claimable row of the queue for the numbering (through the group
-- index), but returns at most ?4 per key.
SELECT id, exhausted, group_key, key_pos FROM (
    SELECT id, attempts >= ?2 AS exhausted, group_key, priority, due_at,
           row_number() OVER (PARTITION BY group_key ORDER BY priority DESC, due_at, id) AS key_pos
    FROM pgqrs_messages
    WHERE queue_id = ?3 AND state = 'live' AND visible_at <= coalesce(?1, {{_now}}))
WHERE key_pos <= ?4
ORDER BY key_pos, priority DESC, due_at, id

-- name: key_leases_held
-- The live leases of the queue ?2 at ?1 per group key, read by the claim of a queue with per-key
-- fairness through the leased index.
SELECT group_key, count(*) AS leases FROM pgqrs_messages
WHERE queue_id = ?2 AND state = 'live' AND lease_token IS NOT NULL AND visible_at > ?1
GROUP BY group_key

-- name: fair_claim_left
-- What a fair claim left (its taken rows ?3, a JSON array of ids, left out): how many live rows of
-- the queue ?2 are left, and when the first of them not visible at ?1 becomes visible (a lease's
-- end or a delay's).
SELECT count(*) AS live, min(CASE WHEN visible_at > ?1 THEN visible_at END) AS next FROM pgqrs_messages
WHERE queue_id = ?2 AND state = 'live' AND id NOT IN (SELECT value FROM json_each(?3))

-- name: leases_held
-- The live leases of the queue ?2 at ?1 and when the first of them ends, read by the claim of a
-- queue with a concurrency limit through the leased index.
SELECT count(*) AS leases, min(visible_at) AS first_end FROM pgqrs_messages
WHERE queue_id = ?2 AND state = 'live' AND lease_token IS NOT NULL AND visible_at > ?1

-- name: claim
-- Leases the candidates of claim_candidates (?4, a JSON array of ids) for ?3 microseconds; every
-- row draws a token of its own.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages
SET attempts = attempts + 1, lease_token = {{_new_token}}, lease_owner = ?2,
    visible_at = n.now + min(?3, {{_never}} - n.now)
FROM n
WHERE id IN (SELECT value FROM json_each(?4))
{{_returning_message}}

-- name: claim_left
-- What a claim left, read in its transaction after its writes: microseconds until the first live
-- message of the queue ?2 it did not take (?3, a JSON array of ids) is visible by ?1, 0 if one is,
-- NULL if none is live.
SELECT max(0, min(visible_at) - ?1) AS micros FROM pgqrs_messages
WHERE queue_id = ?2 AND state = 'live' AND id NOT IN (SELECT value FROM json_each(?3))

-- name: dead_letter_exhausted
-- The candidates of claim_candidates (?2, a JSON array of ids) that used up their attempts.
UPDATE pgqrs_messages
SET state = 'dead', dead_at = coalesce(?1, {{_now}}), lease_token = NULL, lease_owner = NULL,
    last_error = coalesce(last_error, 'max attempts reached')
WHERE id IN (SELECT value FROM json_each(?2))
{{_returning_message}}

-- name: archive
UPDATE pgqrs_messages SET state = 'archived', archived_at = coalesce(?1, {{_now}})
WHERE {{_fenced}}

-- name: archive_many
-- The leases come as one JSON array of {"id": ..., "token": ...} objects: SQLite has no array
-- parameters.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages SET state = 'archived', archived_at = n.now
FROM n
WHERE id IN (SELECT json_extract(l.value, '$.id') FROM json_each(?2) AS l
             WHERE json_extract(l.value, '$.token') = pgqrs_messages.lease_token)
  AND state = 'live' AND visible_at > n.now

-- name: delete
DELETE FROM pgqrs_messages WHERE {{_fenced}}

-- name: release
-- ?4 is the delay in microseconds. A release (a retry's backoff among them) makes the message due
-- again at the end of its delay, and it takes its place in the claim order then.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages
SET visible_at = n.now + min(?4, {{_never}} - n.now), due_at = n.now + min(?4, {{_never}} - n.now),
    lease_token = NULL, lease_owner = NULL,
    last_error = coalesce(?5, last_error)
FROM n
WHERE {{_fenced}}

-- name: extend
-- ?4 is the new lease's length in microseconds, from now. due_at stays: the message keeps its place
-- in the claim order should the lease expire.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages SET visible_at = n.now + min(?4, {{_never}} - n.now)
FROM n
WHERE {{_fenced}}
RETURNING visible_at

-- name: extend_many
-- The engine's lease keeper: the leases come as one JSON array of {"id": ..., "token": ...,
-- "micros": ...} objects (SQLite has no array parameters), each fenced by its token and extended
-- from the clock by its own length in microseconds (a repeated lease once, by its longest). One
-- statement takes the database's write lock once, so it cannot deadlock with another batch.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages
SET visible_at = n.now + min((SELECT max(json_extract(l.value, '$.micros')) FROM json_each(?2) AS l
                              WHERE json_extract(l.value, '$.id') = pgqrs_messages.id
                                AND json_extract(l.value, '$.token') = pgqrs_messages.lease_token),
                             {{_never}} - n.now)
FROM n
WHERE id IN (SELECT json_extract(l.value, '$.id') FROM json_each(?2) AS l
             WHERE json_extract(l.value, '$.token') = pgqrs_messages.lease_token)
  AND state = 'live' AND visible_at > n.now
RETURNING id, lease_token, visible_at

-- name: dead_letter
UPDATE pgqrs_messages
SET state = 'dead', dead_at = coalesce(?1, {{_now}}), last_error = ?4, lease_token = NULL, lease_owner = NULL
WHERE {{_fenced}}

-- name: find_message
SELECT {{_message_columns}}, q.name AS queue
FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id
WHERE m.id = ?1

-- name: until_next_visible
-- Microseconds until the queue's next live message is visible, 0 if one is, NULL if none is live.
-- A paused run's message waits at {{_never}}, which this subtraction keeps finite.
SELECT max(0, min(visible_at) - coalesce(?1, {{_now}})) AS micros FROM pgqrs_messages
WHERE queue_id = (SELECT id FROM pgqrs_queues WHERE name = ?2) AND state = 'live'

-- name: count_claimable
-- Only the queue's live rows are read, through the claim index: never the archive. No row for an
-- unknown queue.
SELECT (SELECT count(*) FROM pgqrs_messages m
        WHERE m.queue_id = q.id AND m.state = 'live' AND m.visible_at <= coalesce(?1, {{_now}})) AS claimable
FROM pgqrs_queues q WHERE q.name = ?2

-- name: list_messages
SELECT {{_message_columns}}
FROM pgqrs_messages m
WHERE m.queue_id = (SELECT id FROM pgqrs_queues WHERE name = ?1) AND m.state = ?2 AND m.id > ?3
ORDER BY m.id
LIMIT ?4

-- name: replay_dead
-- A replayed message keeps its dedup key unless a live message already holds it. SQLite checks
-- the unique index row by row, so an earlier replayed row counts as live for later ones and no
-- window function is needed to pick one of a key, as on PostgreSQL. ?3 is a JSON array of ids,
-- or NULL for every dead message of the queue.
UPDATE pgqrs_messages
SET state = 'live', attempts = 0, visible_at = coalesce(?1, {{_now}}), due_at = coalesce(?1, {{_now}}),
    lease_token = NULL, lease_owner = NULL, dead_at = NULL,
    dedup_key = CASE WHEN dedup_key IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pgqrs_messages l WHERE l.queue_id = pgqrs_messages.queue_id AND l.state = 'live'
          AND l.dedup_key = pgqrs_messages.dedup_key) THEN dedup_key END
WHERE queue_id = ?2 AND state = 'dead' AND (?3 IS NULL OR id IN (SELECT value FROM json_each(?3)))

-- name: purge_queue
-- The queue was looked up by lock_queue in the same transaction: no data-modifying CTE to do both.
DELETE FROM pgqrs_messages WHERE queue_id = ?1 AND state = 'live'

-- name: purge_archived
-- ?3 is the minimum age in microseconds, or NULL for any; ?4 a row limit, 0 or less for none.
-- No DELETE ... LIMIT in a default SQLite build: the victims are chosen in a subquery.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE queue_id = ?2 AND state = 'archived' AND (?3 IS NULL OR archived_at < coalesce(?1, {{_now}}) - ?3)
    ORDER BY id
    LIMIT CASE WHEN ?4 > 0 THEN ?4 ELSE -1 END)

-- name: purge_dead
-- As purge_archived, by the time of dead-lettering.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE queue_id = ?2 AND state = 'dead' AND (?3 IS NULL OR dead_at < coalesce(?1, {{_now}}) - ?3)
    ORDER BY id
    LIMIT CASE WHEN ?4 > 0 THEN ?4 ELSE -1 END)

-- name: count_worker_leases
-- The live leases a worker holds, and the time they were counted at, for the later statements of
-- the same transaction.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT n.now, (SELECT count(*) FROM pgqrs_messages WHERE lease_owner = ?2 AND {{_live_lease}}) AS leases
FROM n

-- name: release_worker_leases
-- The messages keep due_at, their place in the claim order, as an expired lease's would.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages SET visible_at = n.now, lease_token = NULL, lease_owner = NULL
FROM n
WHERE lease_owner = ?2 AND {{_live_lease}}

-- name: enqueue_run_message
-- A run's trigger message, inserted after its run: without data-modifying CTEs or nextval() the
-- run's id is known only once it is inserted, and link_run_message records the message on the run.
-- ?5 is NULL for a message visible at once; else the trigger's lease in microseconds, and the
-- message is inserted as claim leaves one it leases: one delivery, a new token, owned by the
-- worker ?4 and invisible until the lease ends. ?6 the message's headers or NULL.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
INSERT INTO pgqrs_messages (queue_id, payload, enqueued_at, visible_at, due_at, attempts, lease_token, lease_owner,
                            headers)
SELECT ?2, json_object('run_id', ?3), n.now, CASE WHEN ?5 IS NULL THEN n.now ELSE n.now + min(?5, {{_never}} - n.now) END,
       n.now,
       CASE WHEN ?5 IS NULL THEN 0 ELSE 1 END, CASE WHEN ?5 IS NOT NULL THEN {{_new_token}} END,
       CASE WHEN ?5 IS NOT NULL THEN ?4 END, ?6
FROM n WHERE true
{{_returning_message}}

-- name: _suspended_until
-- When a suspended run's message is due again (see suspend_message); SET expressions all read the
-- row as it was, so visible_at and due_at are each given it.
(SELECT CASE
        WHEN r.status IN (SELECT value FROM json_each(?6)) THEN n.now
        WHEN r.status IN (SELECT value FROM json_each(?7)) THEN coalesce(r.deadline_at, {{_never}})
        WHEN EXISTS (
            SELECT 1 FROM pgqrs_signals g JOIN pgqrs_steps st
                ON st.run_id = g.run_id AND st.status = 'WAITING' AND st.awaiting = g.name
            WHERE g.run_id = r.id AND g.consumed_by IS NULL) THEN n.now
        ELSE min(n.now + min(max(coalesce(?5, 0), 0), {{_never}} - n.now), coalesce(r.deadline_at, {{_never}}))
    END FROM pgqrs_runs r, n WHERE r.id = ?2)

-- name: suspend_message
-- Parks a run's message until it has something to do: at once when the run's status is one of ?6
-- (a JSON array: the statuses whose run has work at once) or a signal a step waits for is pending,
-- at the deadline when its status is one of ?7 (those whose run waits for a resume), else ?5
-- microseconds after the store's now (NULL: now), never past the deadline. The engine's state
-- machine gives both lists. Fenced by the lease (?3, ?4). The message takes its place in the claim
-- order at that time (due_at). visible_at tells the caller whether it is due at once, whose
-- consumers to wake then.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages
SET lease_token = NULL, lease_owner = NULL, attempts = 0,
    visible_at = {{_suspended_until}},
    due_at = {{_suspended_until}}
WHERE id = ?3 AND lease_token = ?4 AND state = 'live' AND visible_at > (SELECT now FROM n)
  AND EXISTS (SELECT 1 FROM pgqrs_runs WHERE id = ?2)
RETURNING visible_at

-- name: archive_unleased
-- A message nobody holds: never leased, released, or whose lease has expired.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages
SET state = 'archived', archived_at = n.now, lease_token = NULL, lease_owner = NULL
FROM n
WHERE id = ?2 AND state = 'live' AND (lease_token IS NULL OR visible_at <= n.now)

-- name: message_leased
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
SELECT count(*) AS leased FROM pgqrs_messages, n WHERE id = ?2 AND {{_live_lease}}

-- name: wake_waiting
-- Makes a parked run's message visible now if a step of the run waits for the signal ?4.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages SET visible_at = n.now, due_at = n.now
FROM n
WHERE id = ?2 AND state = 'live' AND lease_token IS NULL AND visible_at > n.now
  AND EXISTS (SELECT 1 FROM pgqrs_steps WHERE run_id = ?3 AND status = 'WAITING' AND awaiting = ?4)

-- name: wake_run
-- Makes a released or delayed message visible now.
WITH n AS (SELECT coalesce(?1, {{_now}}) AS now)
UPDATE pgqrs_messages SET visible_at = n.now, due_at = n.now
FROM n
WHERE id = ?2 AND state = 'live' AND lease_token IS NULL AND visible_at > n.now

-- name: release_leases_of_workers
-- ?2 the workers, a JSON array. Only unexpired leases: an expired one is claimable anyway. The
-- messages keep due_at, their place in the claim order.
UPDATE pgqrs_messages
SET visible_at = coalesce(?1, {{_now}}), lease_token = NULL, lease_owner = NULL,
    last_error = 'worker ' || lease_owner || ' stopped heartbeating'
WHERE lease_owner IN (SELECT value FROM json_each(?2))
  AND state = 'live' AND lease_token IS NOT NULL AND visible_at > coalesce(?1, {{_now}})
RETURNING queue_id

-- name: purge_archived_batch
-- ?2 retention in microseconds, ?3 the most rows.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE state = 'archived' AND archived_at < coalesce(?1, {{_now}}) - ?2
    ORDER BY archived_at
    LIMIT ?3)

-- name: purge_dead_letters
-- ?2 retention in microseconds, ?3 the most rows.
DELETE FROM pgqrs_messages WHERE id IN (
    SELECT id FROM pgqrs_messages
    WHERE state = 'dead' AND dead_at < coalesce(?1, {{_now}}) - ?2
    ORDER BY dead_at
    LIMIT ?3)

-- name: archive_messages_of_runs
-- ?2 the messages, a JSON array.
UPDATE pgqrs_messages SET state = 'archived', archived_at = coalesce(?1, {{_now}}), lease_token = NULL, lease_owner = NULL
WHERE id IN (SELECT value FROM json_each(?2)) AND state = 'live'
