-- pgqrs SQLite migration 1: queues, workers, messages. Kept in step with the PostgreSQL migration
-- of the same number. Instants are INTEGER microseconds since the epoch; lease tokens are TEXT UUIDs.

CREATE TABLE pgqrs_queues (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    created_at   INTEGER NOT NULL
);

CREATE TABLE pgqrs_workers (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    queue_id     INTEGER REFERENCES pgqrs_queues (id) ON DELETE CASCADE,
    hostname     TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('ready', 'suspended', 'stopped')),
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER
);

CREATE INDEX pgqrs_workers_queue_idx ON pgqrs_workers (queue_id);

CREATE TABLE pgqrs_messages (
    id          INTEGER PRIMARY KEY,
    queue_id    INTEGER NOT NULL REFERENCES pgqrs_queues (id) ON DELETE CASCADE,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'archived', 'dead')),
    priority    INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL,
    visible_at  INTEGER NOT NULL,
    lease_token TEXT,
    lease_owner INTEGER,
    dedup_key   TEXT,
    last_error  TEXT,
    archived_at INTEGER,
    dead_at     INTEGER
);

CREATE INDEX pgqrs_messages_claim_idx
    ON pgqrs_messages (queue_id, priority DESC, visible_at, id) WHERE state = 'live';
CREATE UNIQUE INDEX pgqrs_messages_dedup_idx
    ON pgqrs_messages (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL;
CREATE INDEX pgqrs_messages_owner_idx
    ON pgqrs_messages (lease_owner) WHERE state = 'live' AND lease_owner IS NOT NULL;
CREATE INDEX pgqrs_messages_archived_idx
    ON pgqrs_messages (queue_id, archived_at) WHERE state = 'archived';
CREATE INDEX pgqrs_messages_dead_idx
    ON pgqrs_messages (queue_id, id) WHERE state = 'dead';
