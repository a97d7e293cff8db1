-- pgqrs on PostgreSQL: the fragments every table's statements share, and the statements that touch
-- no table (the connection check, LISTEN and NOTIFY).
--
-- Placeholders: {{schema}} is the quoted schema, {{schema_literal}} the same inside a string
-- literal; {{channel}} is left in the text and filled per call with a channel name (see listen).
-- $1 is the optional clock override of every statement that reads the clock.

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
