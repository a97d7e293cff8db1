-- pgqrs PostgreSQL migration 10: cron schedules, and the scheduler's maintenance row.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- One row per schedule. The engine parses cron (a library, not SQL) and computes every
-- next_fire_at; a tick is fired by the UPDATE that moves next_fire_at on from that very tick (a
-- compare-and-set), in the transaction that creates the tick's run or message, so each tick fires
-- once whatever number of engines race for it. last_fired_at is the newest tick fired.
CREATE TABLE ${schema}.pgqrs_schedules (
    name          text        PRIMARY KEY,
    cron          text        NOT NULL,
    zone          text        NOT NULL,
    target_kind   text        NOT NULL CHECK (target_kind IN ('workflow', 'queue')),
    target        text        NOT NULL,
    version       text,
    payload       jsonb       NOT NULL,
    timeout_ms    bigint,
    missed_max    integer     NOT NULL DEFAULT 1 CHECK (missed_max >= 1),
    paused        boolean     NOT NULL DEFAULT false,
    next_fire_at  timestamptz NOT NULL,
    last_fired_at timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- The scheduler reads the due schedules, and the time until the next one, from this index.
CREATE INDEX pgqrs_schedules_due_idx
    ON ${schema}.pgqrs_schedules (next_fire_at) WHERE NOT paused;

-- Seeded due, like the other services' rows.
INSERT INTO ${schema}.pgqrs_sweeps (name, next_run_at) VALUES ('scheduler', 'epoch')
ON CONFLICT (name) DO NOTHING;
