-- pgqrs SQLite migration 10: cron schedules, and the scheduler's maintenance row. Kept in step with
-- the PostgreSQL migration of the same number. Instants are INTEGER microseconds since the epoch;
-- JSON is TEXT; booleans are 0 or 1.

-- One row per schedule. The engine parses cron and computes every next_fire_at; a tick is fired
-- by the UPDATE that moves next_fire_at on from that very tick, in the transaction that creates the
-- tick's run or message.
CREATE TABLE pgqrs_schedules (
    name          TEXT    PRIMARY KEY,
    cron          TEXT    NOT NULL,
    zone          TEXT    NOT NULL,
    target_kind   TEXT    NOT NULL CHECK (target_kind IN ('workflow', 'queue')),
    target        TEXT    NOT NULL,
    version       TEXT,
    payload       TEXT    NOT NULL,
    timeout_ms    INTEGER,
    missed_max    INTEGER NOT NULL DEFAULT 1 CHECK (missed_max >= 1),
    paused        INTEGER NOT NULL DEFAULT 0,
    next_fire_at  INTEGER NOT NULL,
    last_fired_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- The scheduler reads the due schedules, and the time until the next one, from this index.
CREATE INDEX pgqrs_schedules_due_idx
    ON pgqrs_schedules (next_fire_at) WHERE paused = 0;

-- Seeded due, like the other services' rows.
INSERT INTO pgqrs_sweeps (name, next_run_at) VALUES ('scheduler', 0)
ON CONFLICT (name) DO NOTHING;
