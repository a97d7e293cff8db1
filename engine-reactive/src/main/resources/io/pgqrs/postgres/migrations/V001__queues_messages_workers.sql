-- pgqrs PostgreSQL migration 1: queues, workers, messages.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

CREATE TABLE ${schema}.pgqrs_queues (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL UNIQUE,
    max_attempts integer     NOT NULL CHECK (max_attempts >= 1),
    created_at   timestamptz NOT NULL
);

CREATE TABLE ${schema}.pgqrs_workers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL UNIQUE,
    queue_id     bigint      REFERENCES ${schema}.pgqrs_queues (id) ON DELETE CASCADE,
    hostname     text        NOT NULL,
    pid          bigint      NOT NULL,
    status       text        NOT NULL CHECK (status IN ('ready', 'suspended', 'stopped')),
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL,
    stopped_at   timestamptz
);

CREATE INDEX pgqrs_workers_queue_idx ON ${schema}.pgqrs_workers (queue_id);

-- One table for every state: a state change is one UPDATE, and partial indexes keep the claim
-- path blind to archived and dead rows.
CREATE TABLE ${schema}.pgqrs_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id    bigint      NOT NULL REFERENCES ${schema}.pgqrs_queues (id) ON DELETE CASCADE,
    payload     jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'archived', 'dead')),
    priority    integer     NOT NULL DEFAULT 0,
    attempts    integer     NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL,
    visible_at  timestamptz NOT NULL,
    lease_token uuid,
    lease_owner bigint,
    dedup_key   text,
    last_error  text,
    archived_at timestamptz,
    dead_at     timestamptz
);

CREATE INDEX pgqrs_messages_claim_idx
    ON ${schema}.pgqrs_messages (queue_id, priority DESC, visible_at, id) WHERE state = 'live';
CREATE UNIQUE INDEX pgqrs_messages_dedup_idx
    ON ${schema}.pgqrs_messages (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL;
CREATE INDEX pgqrs_messages_owner_idx
    ON ${schema}.pgqrs_messages (lease_owner) WHERE state = 'live' AND lease_owner IS NOT NULL;
CREATE INDEX pgqrs_messages_archived_idx
    ON ${schema}.pgqrs_messages (queue_id, archived_at) WHERE state = 'archived';
CREATE INDEX pgqrs_messages_dead_idx
    ON ${schema}.pgqrs_messages (queue_id, id) WHERE state = 'dead';
