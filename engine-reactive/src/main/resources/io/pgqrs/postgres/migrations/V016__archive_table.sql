-- pgqrs PostgreSQL migration 16: archived messages in a table of their own.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- An archive moves the message out of pgqrs_messages (a DELETE and an INSERT in one statement)
-- instead of marking it. With the archive in the hot table, every claim, extension and ack
-- rewrote rows of the one table that also held every archived row, and while a long transaction
-- pinned the horizon (an idle session holding an XID, REPEATABLE READ readers) vacuum could
-- remove none of the dead versions: the claim walked them all, and pickup p95 reached 0.6-4 s in
-- the pressure scenarios. Here the hot table holds only live and dead messages, a few thousand
-- rows at most, and the archive only grows by inserts, which leave no dead versions behind.
-- The columns are pgqrs_messages' in its order; ids are kept, so a message has one id for life.
CREATE TABLE ${schema}.pgqrs_archive (
    id          bigint      PRIMARY KEY,
    queue_id    bigint      NOT NULL REFERENCES ${schema}.pgqrs_queues (id) ON DELETE CASCADE,
    payload     jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'archived' CHECK (state = 'archived'),
    priority    integer     NOT NULL,
    attempts    integer     NOT NULL,
    enqueued_at timestamptz NOT NULL,
    visible_at  timestamptz NOT NULL,
    lease_token uuid,
    lease_owner bigint,
    dedup_key   text,
    last_error  text,
    archived_at timestamptz NOT NULL,
    dead_at     timestamptz,
    due_at      timestamptz NOT NULL,
    group_key   text,
    headers     jsonb
);

-- Listing and throughput read a queue's archive by time; retention purges the oldest of all.
CREATE INDEX pgqrs_archive_queue_idx ON ${schema}.pgqrs_archive (queue_id, archived_at);
CREATE INDEX pgqrs_archive_archived_at_idx ON ${schema}.pgqrs_archive (archived_at);

-- The rows archived before move over; the hot table's archive indexes go with them.
INSERT INTO ${schema}.pgqrs_archive (id, queue_id, payload, state, priority, attempts, enqueued_at, visible_at,
                                     lease_token, lease_owner, dedup_key, last_error, archived_at, dead_at,
                                     due_at, group_key, headers)
SELECT id, queue_id, payload, state, priority, attempts, enqueued_at, visible_at, lease_token, lease_owner,
       dedup_key, last_error, coalesce(archived_at, enqueued_at), dead_at, due_at, group_key, headers
FROM ${schema}.pgqrs_messages
WHERE state = 'archived';

DELETE FROM ${schema}.pgqrs_messages WHERE state = 'archived';

DROP INDEX ${schema}.pgqrs_messages_archived_idx;
DROP INDEX ${schema}.pgqrs_messages_archived_at_idx;
