-- pgqrs PostgreSQL migration 2: the maintenance sweep row.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- One row per kind of sweep. A sweep takes its row with FOR UPDATE SKIP LOCKED only when
-- next_run_at has passed, so many engine instances share one schedule: one sweeps, the others skip.
CREATE TABLE ${schema}.pgqrs_sweeps (
    name          text        PRIMARY KEY,
    next_run_at   timestamptz NOT NULL,
    last_run_at   timestamptz,
    last_instance text,
    runs          bigint      NOT NULL DEFAULT 0
);

-- Seeded due, so the first instance to look sweeps.
INSERT INTO ${schema}.pgqrs_sweeps (name, next_run_at) VALUES ('maintenance', '-infinity');

-- Retention purges the oldest archived rows of every queue; the archive index leads with queue_id.
CREATE INDEX pgqrs_messages_archived_at_idx
    ON ${schema}.pgqrs_messages (archived_at) WHERE state = 'archived';
