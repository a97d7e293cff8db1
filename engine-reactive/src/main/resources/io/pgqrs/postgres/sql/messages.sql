-- pgqrs on PostgreSQL: the statements of pgqrs_messages.

-- name: _message_columns
-- A message row with its queue name; m is the message, q its queue.
m.id, q.name AS queue, m.payload::text AS payload, m.state, m.priority, m.attempts, m.enqueued_at,
m.visible_at, m.lease_token, m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at, m.group_key,
m.headers::text AS headers

-- name: _returned_message_columns
-- The same columns read from a data-modifying CTE m, with the queue name as $2.
m.id, $2::text AS queue, m.payload::text AS payload, m.state, m.priority, m.attempts, m.enqueued_at,
m.visible_at, m.lease_token, m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at, m.group_key,
m.headers::text AS headers

-- name: _live_lease
-- A message m leased until after the clock n.now.
m.state = 'live' AND m.lease_token IS NOT NULL AND m.visible_at > n.now

-- name: _fenced
-- The lease ($2 the message, $3 its token) is still held.
m.id = $2 AND m.lease_token = $3 AND m.state = 'live' AND m.visible_at > {{_now}}

-- name: _never
-- A paused run's message: far but finite, so "time until the next message" stays computable.
'9999-12-31 00:00:00+00'::timestamptz

-- name: _archive_moved
-- Archiving moves a message: the statement deletes it from pgqrs_messages in a CTE named moved
-- (RETURNING m.* and keep_lease) and this inserts it into pgqrs_archive, archived at the clock
-- n.now, in the same statement. The hot table then holds live and dead messages only, so vacuum
-- keeps it small even while a long transaction pins the horizon (see migration 16). keep_lease
-- keeps the lease token of the holder that archived it, by which a retried archive whose first
-- answer was lost is told it already happened (see _settled); an archive by nobody's lease (a
-- finished run's message, a reaped one) clears it.
INSERT INTO {{schema}}.pgqrs_archive (id, queue_id, payload, state, priority, attempts, enqueued_at, visible_at,
                                      lease_token, lease_owner, dedup_key, last_error, archived_at, dead_at,
                                      due_at, group_key, headers)
SELECT moved.id, moved.queue_id, moved.payload, 'archived', moved.priority, moved.attempts, moved.enqueued_at,
       moved.visible_at, CASE WHEN moved.keep_lease THEN moved.lease_token END,
       CASE WHEN moved.keep_lease THEN moved.lease_owner END, moved.dedup_key, moved.last_error, n.now,
       moved.dead_at, moved.due_at, moved.group_key, moved.headers
FROM moved, n

-- name: enqueue
-- Data-modifying CTEs and pg_notify: one statement inserts one message or a whole batch. In the
-- caller's transaction it notifies the queue's channel $8 at commit; the engine's own writes pass
-- $8 null and announce after commit instead, through one coalesced NOTIFY per engine (see
-- notify_batch), so their transactions never queue on PostgreSQL's global notify lock. Arrays are unnested in input order, so the ids of
-- inserted rows ascend in input order. Dedup conflicts insert nothing and return no row.
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2),
ins AS (
    INSERT INTO {{schema}}.pgqrs_messages (queue_id, payload, priority, enqueued_at, visible_at, due_at, dedup_key,
                                           group_key, headers)
    SELECT q.id, t.payload::jsonb, t.priority, n.now, d.due, d.due, t.dedup_key, t.group_key, t.headers::jsonb
    FROM q, n,
         unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::integer[], $9::text[], $10::text[])
             WITH ORDINALITY AS t(payload, delay_ms, visible_us, dedup_key, priority, group_key, headers, ord),
         LATERAL (SELECT greatest(n.now, coalesce(to_timestamp(t.visible_us / 1000000.0),
                                                  n.now + t.delay_ms * interval '1 millisecond')) AS due) AS d
    ORDER BY t.ord
    ON CONFLICT (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL DO NOTHING
    RETURNING id, dedup_key),
-- Delivered at commit; one per statement however many rows it inserted; none when $8 is null.
note AS (SELECT pg_notify($8, '') FROM q WHERE $8::text IS NOT NULL AND EXISTS (SELECT 1 FROM ins))
SELECT (SELECT id FROM q) AS queue_id, (SELECT count(*) FROM note) AS notified, ins.id, ins.dedup_key
FROM (SELECT 1) AS one LEFT JOIN ins ON true
ORDER BY ins.id

-- name: find_live_by_dedup_keys
SELECT id, dedup_key FROM {{schema}}.pgqrs_messages
WHERE queue_id = $1 AND state = 'live' AND dedup_key = ANY($2::text[])

-- name: _claim_ctes
-- FOR UPDATE SKIP LOCKED picks rows no other claimer holds, and data-modifying CTEs lease them and
-- dead-letter the exhausted ones in the same statement; SQLite's one writer selects and updates in
-- a transaction instead. The queue id and clock come from scalar subqueries so the planner walks
-- the claim index in order instead of sorting the queue. The order is the time each message became
-- due (due_at), which a lease leaves alone: a message whose lease expired comes back at its old
-- place, while visible_at (the lease's end for a leased one) only tells whether it is claimable.
-- FOR UPDATE allows no window function, so the selected rows are numbered (claim_rank) a step
-- later, by the same order, and come back in it. The 'q' row tells an empty queue from an unknown
-- one.
--
-- A queue with a concurrency limit (max_leased) is claimed under a lock of its row, so its claims
-- take turns, and the claim takes no more than the limit less the live leases (room). Only limited
-- queues are locked: for the others lk is empty and room is $3. Waiting for the lock does not renew
-- the snapshot, in which the leases granted by the claims waited for are missing; the locked row is
-- read at its latest version, though, so its leases_granted less the snapshot's (q's) is what they
-- granted, counted on top. That may count a lease settled meanwhile, never misses one: the limit
-- holds, at worst with a slot left unused until the next claim. A queue with a claim rate is
-- locked too: its token bucket, on the locked row, is read at its latest version, refilled for the
-- time since it was last taken (lk.tokens), and the claim takes no more than its whole tokens.
-- A queue with per-key fairness (max_leased_per_key) is claimed by claim_fair instead; claim_runs
-- (workflow queues) does not apply it.
{{_claim_head}},
{{_claim_c}},
{{_claim_ranked}},
{{_claim_writes}}

-- name: _claim_head
-- The clock, the queue, its lock and the room of the claim (see _claim_ctes).
n AS (SELECT {{_now}} AS now),
q AS ({{_claim_queue}}),
{{_claim_room}}

-- name: _claim_queue
-- The claimed queue's row as q reads it.
SELECT id, max_attempts, max_leased, leases_granted, max_leased_per_key FROM {{schema}}.pgqrs_queues WHERE name = $2

-- name: _claim_room
-- The queue's lock and the room of the claim, after n and q (see _claim_ctes).
lk AS (
    SELECT l.max_leased, l.leases_granted, l.claim_rate,
           CASE WHEN l.claim_rate IS NOT NULL THEN least(l.claim_rate::double precision, l.claim_tokens
               + greatest(0, extract(epoch FROM ((SELECT now FROM n) - l.claim_tokens_at))) * l.claim_rate) END AS tokens
    FROM {{schema}}.pgqrs_queues l
    WHERE l.id = (SELECT id FROM q)
      AND (l.max_leased IS NOT NULL OR l.claim_rate IS NOT NULL OR l.max_leased_per_key IS NOT NULL)
    FOR UPDATE),
held AS (
    SELECT lk.max_leased,
           (SELECT count(*) FROM {{schema}}.pgqrs_messages h
            WHERE h.queue_id = q.id AND h.state = 'live' AND h.lease_token IS NOT NULL
              AND h.visible_at > (SELECT now FROM n))
           + (lk.leases_granted - q.leases_granted) AS leases
    FROM q, lk WHERE lk.max_leased IS NOT NULL),
room AS (
    SELECT least(coalesce((SELECT greatest(0, held.max_leased - held.leases) FROM held), $3),
                 coalesce((SELECT floor(lk.tokens)::bigint FROM lk), $3), $3) AS n)

-- name: _claim_c
-- The candidates of a claim in claim order (see _claim_ctes).
c AS (
    SELECT m.id, m.priority, m.due_at, m.attempts >= (SELECT max_attempts FROM q) AS exhausted
    FROM {{schema}}.pgqrs_messages m
    WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'live' AND m.visible_at <= (SELECT now FROM n)
    ORDER BY m.priority DESC, m.due_at, m.id
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED)

-- name: _claim_ranked
-- The room is applied here, not as c's LIMIT: a LIMIT the planner cannot read would make it expect
-- the whole queue and join the updates below by scanning the table. The rows c locked beyond the
-- room stay as they are; only claims of a limited queue lock more than they take, and those take
-- turns anyway.
ranked AS (
    SELECT r.id, r.exhausted, r.claim_rank
    FROM (SELECT c.id, c.exhausted, row_number() OVER (ORDER BY c.priority DESC, c.due_at, c.id) AS claim_rank
          FROM c) AS r
    WHERE r.claim_rank <= (SELECT n FROM room))

-- name: _claim_writes
-- The ranked rows dead-lettered or leased, and the leases counted on the locked queue row. Each
-- update joins its rows to a set of ranked ids the planner reads as one row (LIMIT $3, which
-- ranked never exceeds; see "Rows by key" in common.sql), so it probes the primary key: a generic
-- plan guesses that a claim of unknown size takes a share of the backlog, and joined to ranked
-- alone it hashed ranked and scanned the whole table, archive included (measured: 7 ms for a claim
-- of four at 40,000 rows, against 0.8 ms through the key); by m.id = ANY of the ranked ids, it
-- scanned a table no ANALYZE had seen yet.
dead AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET state = 'dead', dead_at = n.now, lease_token = NULL, lease_owner = NULL,
        last_error = coalesce(m.last_error, 'max attempts reached')
    FROM (SELECT x.id, x.claim_rank FROM ranked x WHERE x.exhausted LIMIT $3) r, n
    WHERE m.id = r.id
    RETURNING m.*, r.claim_rank),
claimed AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET attempts = m.attempts + 1, lease_token = gen_random_uuid(), lease_owner = $4,
        visible_at = n.now + $5 * interval '1 millisecond'
    FROM (SELECT x.id, x.claim_rank FROM ranked x WHERE NOT x.exhausted LIMIT $3) r, n
    WHERE m.id = r.id
    RETURNING m.*, r.claim_rank),
-- The leases this claim granted, counted on the locked row of a limited queue (see lk). Run though
-- no query reads it, as every data-modifying CTE is.
granted AS (
    UPDATE {{schema}}.pgqrs_queues g
    SET leases_granted = lk.leases_granted + (SELECT count(*) FROM claimed),
        claim_tokens = CASE WHEN lk.claim_rate IS NOT NULL THEN lk.tokens - (SELECT count(*) FROM claimed) END,
        claim_tokens_at = CASE WHEN lk.claim_rate IS NOT NULL THEN (SELECT now FROM n) END
    FROM lk WHERE g.id = (SELECT id FROM q) AND EXISTS (SELECT 1 FROM claimed)
    RETURNING 1)

-- name: _rest_us
-- What the claim left (see _visible_rest_us); when the claim leaves a limited queue at its limit,
-- what it left cannot be taken before a lease ends, so at least the time until the first live
-- lease ends: the held ones' or this claim's own; when it leaves less than one token of a claim
-- rate, at least the time until the next token. NULL stays NULL (nothing is live); greatest()
-- ignores the NULL of a wait that does not apply. OFFSET 0 keeps v a subquery of its own,
-- evaluated once: flattened, each use of v.rest in _rest_us_limits would compute it again.
(SELECT {{_rest_us_limits}} FROM (SELECT {{_visible_rest_us}} AS rest OFFSET 0) AS v)

-- name: _rest_us_limits
-- What the claim left (v.rest) made at least the waits of the queue's limits (see _rest_us).
CASE
     WHEN v.rest IS NULL THEN NULL
     ELSE greatest(v.rest,
        (SELECT ceil((1 - (lk.tokens - (SELECT count(*) FROM claimed))) / lk.claim_rate * 1000000)::bigint
         FROM lk WHERE lk.claim_rate IS NOT NULL AND lk.tokens - (SELECT count(*) FROM claimed) < 1),
        CASE WHEN EXISTS (
              SELECT 1 FROM held WHERE held.leases + (SELECT count(*) FROM claimed) >= held.max_leased)
        THEN (extract(epoch FROM (least(
              (SELECT min(h.visible_at) FROM {{schema}}.pgqrs_messages h
               WHERE h.queue_id = (SELECT id FROM q) AND h.state = 'live' AND h.lease_token IS NOT NULL
                 AND h.visible_at > (SELECT now FROM n)),
              CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN (SELECT now FROM n) + $5 * interval '1 millisecond' END)
            - (SELECT now FROM n))) * 1000000)::bigint END) END

-- name: _visible_rest_us
-- What the claim left (the 'q' row's rest_us): 0 if a live message it did not take is visible now
-- (one another claimer holds counts too), else the microseconds until the first such message is
-- visible, NULL if none is live. The first entry of the visible index (pgqrs_messages_visible_idx)
-- that is not one of the claim's own answers both: read in the claim's snapshot, where the rows
-- it takes still have their old visibility, those are skipped by id. Ordered by visible_at, so
-- the planner walks that index and never the table, whose archived rows a min() or EXISTS over
-- the queue's rows could make it scan.
(SELECT CASE WHEN f.visible_at IS NOT NULL
             THEN greatest(0, (extract(epoch FROM (f.visible_at - (SELECT now FROM n))) * 1000000)::bigint) END
 FROM (SELECT (SELECT r.visible_at FROM {{schema}}.pgqrs_messages r
               WHERE r.queue_id = (SELECT id FROM q) AND r.state = 'live' AND r.id NOT IN (SELECT id FROM ranked)
               ORDER BY r.visible_at LIMIT 1) AS visible_at) AS f)

-- name: _no_claimed_message
-- The 'q' row's message columns, all NULL, typed as the claimed rows' are.
NULL::bigint AS claim_rank, NULL::bigint AS id, NULL::text AS queue, NULL::text AS payload,
NULL::text AS state, NULL::integer AS priority, NULL::integer AS attempts, NULL::timestamptz AS enqueued_at,
NULL::timestamptz AS visible_at, NULL::uuid AS lease_token, NULL::bigint AS lease_owner,
NULL::text AS dedup_key, NULL::text AS last_error, NULL::timestamptz AS archived_at,
NULL::timestamptz AS dead_at, NULL::text AS group_key, NULL::text AS headers

-- name: _claim_c_unkeyed
-- The candidates of claim and claim_settling, as _claim_c, of a queue without a per-key limit: a
-- queue with one is claim_fair's, and here it has no candidates (its id is read as NULL, which the
-- plan of every other queue does not notice).
c AS (
    SELECT m.id, m.priority, m.due_at, m.attempts >= (SELECT max_attempts FROM q) AS exhausted
    FROM {{schema}}.pgqrs_messages m
    WHERE m.queue_id = (SELECT id FROM q WHERE q.max_leased_per_key IS NULL) AND m.state = 'live'
      AND m.visible_at <= (SELECT now FROM n)
    ORDER BY m.priority DESC, m.due_at, m.id
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED)

-- name: claim
-- The claim's CTEs (above) and its rows: the 'q' row (with what the claim left, see _rest_us, and
-- the queue's per-key limit), then the claimed ('c') and dead-lettered ('d') messages in claim
-- order. A queue with a per-key limit is claim_fair's: here it has no candidates (its id is read as
-- NULL, which the plan of every other queue does not notice), and the driver, told by per_key,
-- claims it with claim_fair.
WITH {{_claim_head}},
{{_claim_c_unkeyed}},
{{_claim_ranked}},
{{_claim_writes}}
SELECT 'q' AS kind, {{_no_claimed_message}}, {{_rest_us}} AS rest_us, q.max_leased_per_key AS per_key
FROM q
UNION ALL SELECT 'c', m.claim_rank, {{_returned_message_columns}}, NULL, NULL FROM claimed m
UNION ALL SELECT 'd', m.claim_rank, {{_returned_message_columns}}, NULL, NULL FROM dead m
ORDER BY claim_rank NULLS FIRST

-- name: claim_fair
-- The claim of a queue with per-key fairness, run by the driver in a transaction that locked the
-- queue row first (lock_queue_row), so its snapshot holds every lease granted before and the
-- per-key counts are exact. At most max_leased_per_key leased per group key (the messages without
-- a key are one group), taken round-robin: the first claimable message of each key before the
-- second of any, the keys ordered by their first claimable message in claim order. Scales with the
-- number of keys and the claim, not the backlog: keys is a loose index scan of the group index (one
-- probe per distinct live key), hd each key's first claimable row; only the first room keys with
-- room (tk) can get a message, and a key at most room - (tk - 1), as every other key of tk takes
-- one first, so c locks at most tk * (room - tk + 1) rows (a quarter of (room + 1) squared). Locked
-- rows beyond the room stay as they are, as in claim. ranked's LIMIT $3 never cuts (its rows are at
-- most the room): it makes the planner read ranked as small, so the writes probe the primary key
-- on a table no ANALYZE has seen yet (see "Rows by key" in common.sql).
WITH RECURSIVE {{_claim_head}},
fq AS (SELECT id, max_leased_per_key AS k FROM q WHERE max_leased_per_key IS NOT NULL),
keys AS (
    (SELECT m.group_key FROM {{schema}}.pgqrs_messages m
     WHERE m.queue_id = (SELECT id FROM fq) AND m.state = 'live' AND m.group_key IS NOT NULL
     ORDER BY m.group_key LIMIT 1)
    UNION ALL
    SELECT (SELECT m.group_key FROM {{schema}}.pgqrs_messages m
            WHERE m.queue_id = (SELECT id FROM fq) AND m.state = 'live' AND m.group_key > keys.group_key
            ORDER BY m.group_key LIMIT 1)
    FROM keys WHERE keys.group_key IS NOT NULL),
kh AS (
    SELECT coalesce(jsonb_object_agg(l.group_key, l.leases) FILTER (WHERE l.group_key IS NOT NULL), '{}') AS j,
           coalesce(sum(l.leases) FILTER (WHERE l.group_key IS NULL), 0) AS no_key
    FROM (SELECT h.group_key, count(*) AS leases FROM {{schema}}.pgqrs_messages h
          WHERE h.queue_id = (SELECT id FROM fq) AND h.state = 'live' AND h.lease_token IS NOT NULL
            AND h.visible_at > (SELECT now FROM n)
          GROUP BY h.group_key) AS l),
hd AS (
    SELECT g.group_key, f.priority, f.due_at, f.id
    FROM keys AS g,
         LATERAL (SELECT m.priority, m.due_at, m.id FROM {{schema}}.pgqrs_messages m
                  WHERE m.queue_id = (SELECT id FROM fq) AND m.state = 'live' AND m.group_key = g.group_key
                    AND m.visible_at <= (SELECT now FROM n)
                  ORDER BY m.group_key, m.priority DESC, m.due_at, m.id LIMIT 1) AS f
    WHERE g.group_key IS NOT NULL
    UNION ALL
    (SELECT NULL::text, m.priority, m.due_at, m.id FROM {{schema}}.pgqrs_messages m
     WHERE m.queue_id = (SELECT id FROM fq) AND m.state = 'live' AND m.group_key IS NULL
       AND m.visible_at <= (SELECT now FROM n)
     ORDER BY m.group_key, m.priority DESC, m.due_at, m.id LIMIT 1)),
-- The rows of one key (or of no key) are read in the group index's order, group_key first
-- though it is fixed: otherwise the planner may walk the claim index instead, through the whole
-- queue, for a key with few rows or none.
-- The leases per key are one jsonb object (kh.j), looked up per head: a join of the heads to a
-- grouped CTE is planned as a nested loop (the planner guesses one row), a product of the keys.
top AS (
    SELECT o.group_key, o.free, row_number() OVER (ORDER BY o.priority DESC, o.due_at, o.id) AS key_rank
    FROM (SELECT hd.group_key, hd.priority, hd.due_at, hd.id,
                 (SELECT k FROM fq) - CASE WHEN hd.group_key IS NULL THEN kh.no_key
                                           ELSE coalesce((kh.j ->> hd.group_key)::bigint, 0) END AS free
          FROM hd, kh) AS o
    WHERE o.free > 0),
tk AS (SELECT group_key, free, key_rank FROM top WHERE key_rank <= (SELECT n FROM room)),
depth AS (SELECT (SELECT n FROM room) - count(*) + 1 AS d FROM tk),
ck AS (
    SELECT p.id, p.priority, p.due_at, p.exhausted, tk.key_rank
    FROM tk,
         LATERAL (SELECT m.id, m.priority, m.due_at, m.attempts >= (SELECT max_attempts FROM q) AS exhausted
                  FROM {{schema}}.pgqrs_messages m
                  WHERE m.queue_id = (SELECT id FROM fq) AND m.state = 'live' AND m.group_key = tk.group_key
                    AND m.visible_at <= (SELECT now FROM n)
                  ORDER BY m.group_key, m.priority DESC, m.due_at, m.id
                  LIMIT least(tk.free, (SELECT d FROM depth))
                  FOR UPDATE OF m SKIP LOCKED) AS p
    WHERE tk.group_key IS NOT NULL),
c0 AS (
    SELECT m.id, m.priority, m.due_at, m.attempts >= (SELECT max_attempts FROM q) AS exhausted,
           (SELECT key_rank FROM tk WHERE tk.group_key IS NULL) AS key_rank
    FROM {{schema}}.pgqrs_messages m
    WHERE m.queue_id = (SELECT id FROM fq WHERE EXISTS (SELECT 1 FROM tk WHERE tk.group_key IS NULL))
      AND m.state = 'live' AND m.group_key IS NULL AND m.visible_at <= (SELECT now FROM n)
    ORDER BY m.group_key, m.priority DESC, m.due_at, m.id
    LIMIT coalesce((SELECT least(tk.free, (SELECT d FROM depth)) FROM tk WHERE tk.group_key IS NULL), 0)
    FOR UPDATE OF m SKIP LOCKED),
-- Round-robin: a message's place in its key (key_pos) first, then its key's.
ranked AS (
    SELECT r.id, r.exhausted, r.claim_rank
    FROM (SELECT x.id, x.exhausted, row_number() OVER (ORDER BY x.key_pos, x.key_rank) AS claim_rank
          FROM (SELECT c.id, c.exhausted, c.key_rank,
                       row_number() OVER (PARTITION BY c.key_rank ORDER BY c.priority DESC, c.due_at, c.id) AS key_pos
                FROM (SELECT * FROM ck UNION ALL SELECT * FROM c0) AS c) AS x) AS r
    WHERE r.claim_rank <= (SELECT n FROM room)
    LIMIT $3),
{{_claim_writes}}
SELECT 'q' AS kind, {{_no_claimed_message}}, {{_fair_rest_us}} AS rest_us, q.max_leased_per_key AS per_key
FROM q
UNION ALL SELECT 'c', m.claim_rank, {{_returned_message_columns}}, NULL, NULL FROM claimed m
UNION ALL SELECT 'd', m.claim_rank, {{_returned_message_columns}}, NULL, NULL FROM dead m
ORDER BY claim_rank NULLS FIRST

-- name: _fair_rest_us
-- What a fair claim left, made at least the waits of the queue's limits as in _rest_us: NULL if
-- nothing it did not take is live; 0 if it took all its room (more may be claimable); else what
-- is left waits for a key's lease to end or a message to become visible, so the time until the
-- first of those (this claim's own leases included), 0 if none is known (a row another claimer
-- holds). OFFSET 0 keeps v a subquery of its own, evaluated once: flattened, each use of v.rest in
-- _rest_us_limits would compute it again. Both reads of the queue's rows are first entries of the
-- visible index (ORDER BY visible_at LIMIT 1), which the planner cannot answer by scanning the
-- table and its archive (see _visible_rest_us).
(SELECT {{_rest_us_limits}} FROM (SELECT
    CASE WHEN (SELECT r.visible_at FROM {{schema}}.pgqrs_messages r
               WHERE r.queue_id = (SELECT id FROM q) AND r.state = 'live' AND r.id NOT IN (SELECT id FROM ranked)
               ORDER BY r.visible_at LIMIT 1) IS NULL
         THEN NULL::bigint
         WHEN (SELECT n FROM room) > 0 AND (SELECT count(*) FROM ranked) >= (SELECT n FROM room) THEN 0::bigint
         ELSE coalesce(greatest(0, (extract(epoch FROM (least(
                  (SELECT r.visible_at FROM {{schema}}.pgqrs_messages r
                   WHERE r.queue_id = (SELECT id FROM q) AND r.state = 'live' AND r.visible_at > (SELECT now FROM n)
                     AND r.id NOT IN (SELECT id FROM ranked)
                   ORDER BY r.visible_at LIMIT 1),
                  CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN (SELECT now FROM n) + $5 * interval '1 millisecond' END)
                - (SELECT now FROM n))) * 1000000)::bigint), 0::bigint) END AS rest OFFSET 0) AS v)

-- name: archive
-- The message moved to pgqrs_archive (see _archive_moved); the count is the insert's.
WITH n AS (SELECT {{_now}} AS now),
moved AS (DELETE FROM {{schema}}.pgqrs_messages m WHERE {{_fenced}} RETURNING m.*, true AS keep_lease)
{{_archive_moved}}

-- name: archive_many
-- Arrays of ids and tokens unnested into a join, so a batch is one statement; SQLite passes the
-- pairs as JSON. The messages move to pgqrs_archive (see _archive_moved); a pair named twice
-- deletes its row once, and the count is the insert's.
WITH n AS (SELECT {{_now}} AS now),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    USING unnest($2::bigint[], $3::text[]) AS t(id, token), n
    WHERE m.id = t.id AND m.lease_token = t.token::uuid AND m.state = 'live' AND m.visible_at > n.now
    RETURNING m.*, true AS keep_lease)
{{_archive_moved}}

-- name: settle_many
-- The engine's completer: the settles of every consumer of the engine that arrived while the last
-- batch was written, in one statement (River's JobSetStateIfRunningMany shape). The arrays $2..$6
-- (ids, tokens, kinds, release delays in milliseconds, errors) are unnested in input order; the
-- writes are _settle_writes.
WITH n AS (SELECT {{_now}} AS now),
s_i AS (
    SELECT *
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[])
        WITH ORDINALITY AS i(id, token, kind, millis, error, ord)),
{{_settle_writes}}
SELECT s_i.ord, {{_settled}} AS settled
FROM s_i
ORDER BY s_i.ord

-- name: _settle_writes
-- The settles of s_i (id, token, kind, millis, error, ord: one row per input, in input order) at
-- the clock n. A message named more than once is settled by its first entry alone. The held rows
-- are locked first in id order, as every statement that writes many messages does, each fenced by
-- its own token (the lock re-checks the fence on the row's latest version, so a lease settled or
-- re-issued meanwhile is left alone); one data-modifying CTE per kind then writes the locked rows
-- of its kind, so each row is written once (an archive moves its row, see _archive_moved). Release: timestamptz arithmetic as in release, and
-- like it the message takes its place in the claim order (due_at) at the end of its delay.
s_f AS (SELECT DISTINCT ON (id) id, token::uuid AS token, kind, millis, error, ord FROM s_i ORDER BY id, ord),
s_l AS MATERIALIZED (
    SELECT m.id, s_f.kind, s_f.millis, s_f.error, s_f.ord
    FROM {{schema}}.pgqrs_messages m
    JOIN s_f ON s_f.id = m.id AND m.lease_token = s_f.token
    WHERE m.state = 'live' AND m.visible_at > (SELECT now FROM n)
    ORDER BY m.id
    FOR UPDATE OF m),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    USING s_l
    WHERE m.id = s_l.id AND s_l.kind = 'archive'
    RETURNING m.*, true AS keep_lease, s_l.ord AS settle_ord),
s_m AS ({{_archive_moved}} RETURNING 1),
s_a AS (SELECT settle_ord AS ord FROM moved),
s_d AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    USING s_l
    WHERE m.id = s_l.id AND s_l.kind = 'delete'
    RETURNING s_l.ord),
s_r AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET visible_at = n.now + s_l.millis * interval '1 millisecond',
        due_at = n.now + s_l.millis * interval '1 millisecond',
        lease_token = NULL, lease_owner = NULL, last_error = coalesce(s_l.error, m.last_error)
    FROM s_l, n
    WHERE m.id = s_l.id AND s_l.kind = 'release'
    RETURNING s_l.ord),
s_x AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET state = 'dead', dead_at = n.now, last_error = s_l.error, lease_token = NULL, lease_owner = NULL
    FROM s_l, n
    WHERE m.id = s_l.id AND s_l.kind = 'dead_letter'
    RETURNING s_l.ord),
s_done AS (SELECT ord FROM s_a UNION ALL SELECT ord FROM s_d UNION ALL SELECT ord FROM s_r UNION ALL SELECT ord FROM s_x)

-- name: _settled
-- What _settle_writes did for the input row s_i: 'applied'; 'archived' for an archive whose row was
-- already archived under that very token (an earlier attempt whose answer was lost: the
-- statement's snapshot holds no row this statement archived, so what it finds in pgqrs_archive an
-- earlier statement put there); else 'not_held'. The archived row is read as a scalar by its key,
-- one probe per such input: as an EXISTS, a plan made while the archive was new hashed the whole
-- archive (see "Rows by key" in common.sql).
CASE WHEN s_i.ord IN (SELECT ord FROM s_done) THEN 'applied'
     WHEN s_i.kind = 'archive' AND s_i.ord IN (SELECT ord FROM s_f)
          AND (SELECT a.lease_token FROM {{schema}}.pgqrs_archive a WHERE a.id = s_i.id) = s_i.token::uuid
         THEN 'archived'
     ELSE 'not_held' END

-- name: claim_settling
-- A handler run's claim (as claim, $1..$5) with the settles of its finished deliveries (as
-- settle_many, its arrays at $6..$10) in one statement: one round trip and one commit instead of
-- two. The two write disjoint rows: a settle's row is leased (visible after the clock), a
-- candidate of the claim is visible (at or before it). In the one snapshot the settled rows still
-- look leased, so a limited queue's claim counts them as held (it may take less, never more) and
-- what the claim left may name a settled row's lease end (an early look, never a missed message).
-- The rows: those of claim, then one 's' row per settle in input order, its answer in settled.
--
-- The settles' rows are locked before anything of the claim: q, which the queue's lock (lk) and
-- the candidates (c) read first, waits for s_l, which locks them in id order. A claim locks its
-- candidates with SKIP LOCKED, so it never waits for them, but it holds them to the end of the
-- statement, and with them a candidate taken meanwhile by another claim: its lock is taken on the
-- latest version, whose lease then fails the claim's condition, and the row is left out yet stays
-- locked. Had the settles waited for their rows after that (for the lease keeper's extension,
-- say, which waits in its turn for that leased row), the statements would deadlock: seen in
-- 16-consumer drains, three times in 25 seconds at 200,000 messages.
WITH n AS (SELECT {{_now}} AS now),
s_i AS (
    SELECT *
    FROM unnest($6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::text[])
        WITH ORDINALITY AS i(id, token, kind, millis, error, ord)),
{{_settle_writes}},
q AS ({{_claim_queue}} AND (SELECT count(*) FROM s_l) >= 0),
{{_claim_room}},
{{_claim_c_unkeyed}},
{{_claim_ranked}},
{{_claim_writes}}
SELECT 'q' AS kind, {{_no_claimed_message}}, {{_rest_us}} AS rest_us, q.max_leased_per_key AS per_key,
       NULL::bigint AS settle_ord, NULL::text AS settled
FROM q
UNION ALL SELECT 'c', m.claim_rank, {{_returned_message_columns}}, NULL, NULL, NULL, NULL FROM claimed m
UNION ALL SELECT 'd', m.claim_rank, {{_returned_message_columns}}, NULL, NULL, NULL, NULL FROM dead m
UNION ALL SELECT 's', {{_no_claimed_message}}, NULL, NULL, s_i.ord, {{_settled}} FROM s_i
ORDER BY claim_rank NULLS FIRST, settle_ord

-- name: delete
DELETE FROM {{schema}}.pgqrs_messages m WHERE {{_fenced}}

-- name: release
-- timestamptz arithmetic; SQLite adds integer microseconds. A release (a retry's backoff among
-- them) makes the message due again at the end of its delay, and it takes its place in the claim
-- order then.
UPDATE {{schema}}.pgqrs_messages m
SET visible_at = {{_now}} + $4 * interval '1 millisecond', due_at = {{_now}} + $4 * interval '1 millisecond',
    lease_token = NULL, lease_owner = NULL,
    last_error = coalesce($5, m.last_error)
WHERE {{_fenced}}

-- name: extend
-- timestamptz arithmetic; SQLite adds integer microseconds. due_at stays: the message keeps its
-- place in the claim order should the lease expire.
UPDATE {{schema}}.pgqrs_messages m SET visible_at = {{_now}} + $4 * interval '1 millisecond'
WHERE {{_fenced}}
RETURNING m.visible_at

-- name: extend_many
-- The engine's lease keeper: every lease it holds in one statement, arrays of ids, tokens and
-- lengths in milliseconds unnested into a join, each lease fenced by its token and extended from
-- the store's clock by its own length (a repeated lease once, by its longest length). The held rows
-- are locked first in id order, as every statement that writes many messages does, so batches over
-- the same rows wait for each other instead of deadlocking; the lock re-checks the fence on the
-- row's latest version, so a lease settled or re-issued meanwhile is left alone.
WITH n AS (SELECT {{_now}} AS now),
t AS (
    SELECT DISTINCT ON (id, token) id, token::uuid AS token, millis
    FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS t(id, token, millis)
    ORDER BY id, token, millis DESC),
l AS MATERIALIZED (
    SELECT m.id, t.token, t.millis
    FROM {{schema}}.pgqrs_messages m
    JOIN t ON t.id = m.id AND m.lease_token = t.token
    WHERE m.state = 'live' AND m.visible_at > (SELECT now FROM n)
    ORDER BY m.id
    FOR UPDATE OF m)
UPDATE {{schema}}.pgqrs_messages m SET visible_at = n.now + l.millis * interval '1 millisecond'
FROM l, n
WHERE m.id = l.id AND m.lease_token = l.token
RETURNING m.id, m.lease_token, m.visible_at

-- name: dead_letter
UPDATE {{schema}}.pgqrs_messages m
SET state = 'dead', dead_at = {{_now}}, last_error = $4, lease_token = NULL, lease_owner = NULL
WHERE {{_fenced}}

-- name: until_next_visible
-- The first entry of the visible index, asked only when idle; NULL when nothing is live. Written
-- as ORDER BY ... LIMIT 1, not min(): the planner may answer a min() by reading every live row of
-- the queue through another index.
WITH n AS (SELECT {{_now}} AS now)
SELECT (extract(epoch FROM ((SELECT m.visible_at FROM {{schema}}.pgqrs_messages m
                             WHERE m.queue_id = (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2)
                               AND m.state = 'live'
                             ORDER BY m.visible_at LIMIT 1)
                            - (SELECT now FROM n))) * 1000000)::bigint AS micros

-- name: count_claimable
-- Only the queue's live rows are read, through the claim index: never the archive. No row for an
-- unknown queue.
WITH n AS (SELECT {{_now}} AS now)
SELECT (SELECT count(*) FROM {{schema}}.pgqrs_messages m
        WHERE m.queue_id = q.id AND m.state = 'live' AND m.visible_at <= (SELECT now FROM n)) AS claimable
FROM {{schema}}.pgqrs_queues q WHERE q.name = $2

-- name: find_message
-- A message is in one of the two tables (an archive moves it in one statement), read here in one
-- snapshot.
SELECT {{_message_columns}} FROM {{schema}}.pgqrs_messages m JOIN {{schema}}.pgqrs_queues q ON q.id = m.queue_id
WHERE m.id = $1
UNION ALL
SELECT {{_message_columns}} FROM {{schema}}.pgqrs_archive m JOIN {{schema}}.pgqrs_queues q ON q.id = m.queue_id
WHERE m.id = $1

-- name: list_messages
SELECT {{_message_columns}} FROM {{schema}}.pgqrs_messages m JOIN {{schema}}.pgqrs_queues q ON q.id = m.queue_id
WHERE m.queue_id = (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $1) AND m.state = $2 AND m.id > $3
ORDER BY m.id LIMIT $4

-- name: list_archived_messages
-- list_messages of the archive ($2 is 'archived'), in id order through its primary key.
SELECT {{_message_columns}} FROM {{schema}}.pgqrs_archive m JOIN {{schema}}.pgqrs_queues q ON q.id = m.queue_id
WHERE m.queue_id = (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $1) AND m.state = $2 AND m.id > $3
ORDER BY m.id LIMIT $4

-- name: replay_dead
-- Data-modifying CTEs and pg_notify: the replay and the queue's wake-up ($4, null when the driver
-- announces after commit, as it does) are one statement. A
-- replayed message keeps its dedup key unless a live message (or an earlier replayed one) already
-- holds it: replay never fails on the unique index.
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2),
r AS (
    SELECT m.id,
           m.dedup_key IS NOT NULL
           AND row_number() OVER (PARTITION BY m.dedup_key ORDER BY m.id) = 1
           AND NOT EXISTS (SELECT 1 FROM {{schema}}.pgqrs_messages l
                           WHERE l.queue_id = m.queue_id AND l.state = 'live'
                             AND l.dedup_key = m.dedup_key) AS keep_key
    FROM {{schema}}.pgqrs_messages m
    WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'dead' AND ($3::bigint[] IS NULL OR m.id = ANY($3::bigint[]))),
u AS (
    UPDATE {{schema}}.pgqrs_messages m
    SET state = 'live', attempts = 0, visible_at = n.now, due_at = n.now, lease_token = NULL, lease_owner = NULL,
        dead_at = NULL, dedup_key = CASE WHEN r.keep_key THEN m.dedup_key END
    FROM r, n WHERE m.id = r.id AND m.state = 'dead'
    RETURNING 1),
note AS (SELECT pg_notify($4, '') FROM q WHERE $4::text IS NOT NULL AND EXISTS (SELECT 1 FROM u))
SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM u) AS replayed,
       (SELECT count(*) FROM note) AS notified

-- name: purge_queue
-- A data-modifying CTE: the delete and the queue's existence come back from one statement.
WITH q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $1),
d AS (DELETE FROM {{schema}}.pgqrs_messages m WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'live' RETURNING 1)
SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM d) AS deleted

-- name: purge_archived
-- A data-modifying CTE: the delete and the queue's existence come back from one statement. The
-- archive is a table of its own (see _archive_moved).
-- $3 is the optional age in milliseconds, $4 the limit (0 for none).
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2),
victims AS (
    SELECT m.id FROM {{schema}}.pgqrs_archive m
    WHERE m.queue_id = (SELECT id FROM q)
      AND ($3::bigint IS NULL OR m.archived_at < (SELECT now FROM n) - $3 * interval '1 millisecond')
    ORDER BY m.id
    LIMIT CASE WHEN $4 > 0 THEN $4 END),
d AS (DELETE FROM {{schema}}.pgqrs_archive m USING victims v WHERE m.id = v.id RETURNING 1)
SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM d) AS deleted

-- name: purge_dead
-- purge_archived for dead letters, aged by dead_at, in pgqrs_messages.
WITH n AS (SELECT {{_now}} AS now),
q AS (SELECT id FROM {{schema}}.pgqrs_queues WHERE name = $2),
victims AS (
    SELECT m.id FROM {{schema}}.pgqrs_messages m
    WHERE m.queue_id = (SELECT id FROM q) AND m.state = 'dead'
      AND ($3::bigint IS NULL OR m.dead_at < (SELECT now FROM n) - $3 * interval '1 millisecond')
    ORDER BY m.id
    LIMIT CASE WHEN $4 > 0 THEN $4 END),
d AS (DELETE FROM {{schema}}.pgqrs_messages m USING victims v WHERE m.id = v.id RETURNING 1)
SELECT (SELECT count(*) FROM q) AS queues, (SELECT count(*) FROM d) AS deleted

-- name: count_worker_leases
WITH n AS (SELECT {{_now}} AS now)
SELECT count(*) AS leases FROM {{schema}}.pgqrs_messages m, n WHERE m.lease_owner = $2 AND {{_live_lease}}

-- name: release_worker_leases
-- A data-modifying CTE, so the released rows are counted by the statement that releases them. The
-- messages keep due_at, their place in the claim order, as an expired lease's would.
WITH n AS (SELECT {{_now}} AS now),
r AS (
    UPDATE {{schema}}.pgqrs_messages m SET visible_at = n.now, lease_token = NULL, lease_owner = NULL
    FROM n WHERE m.lease_owner = $2 AND {{_live_lease}}
    RETURNING 1)
SELECT count(*) AS released FROM r

-- name: suspend_message
-- Releases a run's message until it is due again, in one UPDATE reading the locked run, its
-- signals and steps, by the first rule that applies: due now if the run's status is one of $6
-- (the state machine's "wake at once" list); parked until the deadline if it is one of $7 (its
-- "parked until resumed" list); due now if a signal one of its WAITING steps waits for is
-- unconsumed; else $5 microseconds after the store's now, clamped to the deadline. The message
-- takes its place in the claim order at that time (due_at). due_now and the queue tell the caller
-- whose consumers to wake: a message due at once (a signal or cancel that came while the run was
-- held) would otherwise wait for their next poll.
WITH n AS (SELECT {{_now}} AS now), r AS (SELECT id, status, deadline_at FROM {{schema}}.pgqrs_runs WHERE id = $2)
UPDATE {{schema}}.pgqrs_messages m
SET lease_token = NULL, lease_owner = NULL, attempts = 0, visible_at = d.due, due_at = d.due
FROM n, r, {{schema}}.pgqrs_queues q, LATERAL (SELECT CASE
        WHEN r.status = ANY($6::text[]) THEN n.now
        WHEN r.status = ANY($7::text[]) THEN coalesce(r.deadline_at, {{_never}})
        WHEN EXISTS (
            SELECT 1 FROM {{schema}}.pgqrs_signals g JOIN {{schema}}.pgqrs_steps st
                ON st.run_id = g.run_id AND st.status = 'WAITING' AND st.awaiting = g.name
            WHERE g.run_id = r.id AND g.consumed_by IS NULL) THEN n.now
        ELSE least(n.now + greatest(coalesce($5::bigint, 0), 0) * interval '1 microsecond',
                   coalesce(r.deadline_at, {{_never}}))
    END AS due) AS d
WHERE m.id = $3 AND m.lease_token = $4 AND m.state = 'live' AND m.visible_at > n.now AND q.id = m.queue_id
RETURNING d.due <= n.now AS due_now, q.name AS queue

-- name: archive_unleased
-- A message nobody holds: never leased, released, or whose lease has expired, moved to the archive
-- (see _archive_moved) without a lease.
WITH n AS (SELECT {{_now}} AS now),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m USING n
    WHERE m.id = $2 AND m.state = 'live' AND (m.lease_token IS NULL OR m.visible_at <= n.now)
    RETURNING m.*, false AS keep_lease)
{{_archive_moved}}

-- name: archive_live
-- A run's live message archived whoever holds it, since its run has ended (a holder's settle is
-- then refused: the message is no longer live), moved to the archive without a lease.
WITH n AS (SELECT {{_now}} AS now),
moved AS (
    DELETE FROM {{schema}}.pgqrs_messages m
    WHERE m.id = $2 AND m.state = 'live'
    RETURNING m.*, false AS keep_lease)
{{_archive_moved}}

-- name: wake_waiting
-- Makes a run's released message due now when one of its steps waits for the signal $4, and
-- tells the queue the message is on (a versioned run's is its version's), whose consumers to wake.
UPDATE {{schema}}.pgqrs_messages m SET visible_at = {{_now}}, due_at = {{_now}}
FROM {{schema}}.pgqrs_queues q
WHERE m.id = $2 AND q.id = m.queue_id AND m.state = 'live' AND m.lease_token IS NULL AND m.visible_at > {{_now}}
  AND EXISTS (SELECT 1 FROM {{schema}}.pgqrs_steps WHERE run_id = $3 AND status = 'WAITING' AND awaiting = $4)
RETURNING q.name AS queue

-- name: wake_run
-- Makes a run's released message due now, and tells the queue it is on.
UPDATE {{schema}}.pgqrs_messages m SET visible_at = {{_now}}, due_at = {{_now}}
FROM {{schema}}.pgqrs_queues q
WHERE m.id = $2 AND q.id = m.queue_id AND m.state = 'live' AND m.lease_token IS NULL AND m.visible_at > {{_now}}
RETURNING q.name AS queue

-- name: purge_archived_batch
-- $2 retention in milliseconds, $3 the most rows. SKIP LOCKED: concurrent purges take disjoint rows.
-- The oldest first, through pgqrs_archive_archived_at_idx.
WITH n AS (SELECT {{_now}} AS now),
victims AS (
    SELECT m.id FROM {{schema}}.pgqrs_archive m
    WHERE m.archived_at < (SELECT now FROM n) - $2 * interval '1 millisecond'
    ORDER BY m.archived_at
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED),
d AS (DELETE FROM {{schema}}.pgqrs_archive m USING victims v WHERE m.id = v.id RETURNING 1)
SELECT count(*) AS purged FROM d

-- name: purge_dead_letters
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

-- name: vacuum_messages
-- PostgreSQL only: the hot table's dead versions and index entries removed (see
-- PostgresHotTableVacuum). SKIP_LOCKED: when another session vacuums the table (another engine's
-- turn, autovacuum) this one does nothing instead of waiting. Autocommit only: VACUUM runs in no
-- transaction block.
VACUUM (SKIP_LOCKED) {{schema}}.pgqrs_messages
