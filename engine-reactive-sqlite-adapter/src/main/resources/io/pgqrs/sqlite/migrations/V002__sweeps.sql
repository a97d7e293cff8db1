-- pgqrs SQLite migration 2: the maintenance sweep row. Kept in step with the PostgreSQL migration
-- of the same number. Instants are INTEGER microseconds since the epoch.

-- One row per kind of sweep. BEGIN IMMEDIATE already serialises sweeps; the row tells whether one
-- is due, so many stores sharing a file share one schedule.
CREATE TABLE pgqrs_sweeps (
    name          TEXT    PRIMARY KEY,
    next_run_at   INTEGER NOT NULL,
    last_run_at   INTEGER,
    last_instance TEXT,
    runs          INTEGER NOT NULL DEFAULT 0
);

-- Seeded due, so the first store to look sweeps.
INSERT INTO pgqrs_sweeps (name, next_run_at) VALUES ('maintenance', 0);

-- Retention purges the oldest archived rows of every queue; the archive index leads with queue_id.
CREATE INDEX pgqrs_messages_archived_at_idx
    ON pgqrs_messages (archived_at) WHERE state = 'archived';
