-- pgqrs on PostgreSQL: the fragments every table's statements share, and the statements that touch
-- no table (the connection check, LISTEN and NOTIFY).
--
-- Placeholders: {{schema}} is the quoted schema, {{schema_literal}} the same inside a string
-- literal; {{channel}} is left in the text and filled per call with a channel name (see listen).
-- $1 is the optional clock override of every statement that reads the clock.
--
-- Rows by key: the store's connections plan each statement once, generically (see
-- PostgresDriver), and a new table that no ANALYZE has seen yet is taken for ten pages of a few
-- hundred rows. Joined to an array of keys (which the planner takes for ten), such a table is
-- scanned and hashed, and the plan stays while the table grows: measured 0.45 ms per record of a
-- step at 6,000 runs, growing with every run. So a hot statement that takes rows by a set of keys
-- takes each in a subquery of its own, a LATERAL one per key that locks its row (FOR UPDATE or
-- FOR SHARE, so the planner cannot merge it into the join) or says OFFSET 0: one key's row costs
-- less by its index than by a scan whatever the planner believes of the table, and the keys are
-- walked in order, so the rows are locked in id order, as every statement that locks many does.
-- A message is locked by its key (and token) alone and judged live and leased after the lock, on
-- the version the lock returns: with state = 'live' in the lookup, the planner takes a partial
-- index of live rows whose leading column is not the id and walks all of it (OFFSET 0 keeps the
-- planner from pushing the judgement into the lookup). Where an UPDATE takes the rows (its target
-- cannot be a LATERAL subquery) or a plain join does, the keys are a set the planner reads as one
-- row, their LIMIT being the array's length, which a generic plan cannot read and takes for a
-- tenth of the input: joined to one key, the table is probed by its index.

-- name: _now
-- The clock: the override in $1, else the transaction's start.
coalesce($1::timestamptz, now())

-- name: ping
SELECT 1

-- name: listen
-- LISTEN takes no bind parameter: {{channel}} is replaced by a name the driver derives from a
-- digest (letters, digits and '_' only). SQLite has no notifications and signals in process.
LISTEN {{channel}}

-- name: notify_batch
-- The engine's coalesced wake-ups, sent after the writes they announce have committed: every
-- channel $1[i] gets the payload $2[i], in one autocommit statement, so only this statement (one
-- in flight per engine) queues on PostgreSQL's global notify lock at commit, not every write.
-- pg_notify is delivered when its transaction commits; SQLite has no notifications and signals in
-- process.
SELECT pg_notify(t.c, t.p) FROM unnest($1::text[], $2::text[]) AS t(c, p)
