-- pgqrs SQLite migration 3: workflows, runs, steps, signals. Kept in step with the PostgreSQL
-- migration of the same number. Instants are INTEGER microseconds since the epoch; JSON is TEXT;
-- lease tokens are TEXT UUIDs.

-- A workflow maps 1:1 to the queue of the same name; its trigger messages carry {"run_id": n}.
CREATE TABLE pgqrs_workflows (
    name       TEXT    PRIMARY KEY,
    queue_id   INTEGER NOT NULL REFERENCES pgqrs_queues (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

CREATE TABLE pgqrs_runs (
    id              INTEGER PRIMARY KEY,
    workflow        TEXT    NOT NULL REFERENCES pgqrs_workflows (name) ON DELETE CASCADE,
    status          TEXT    NOT NULL CHECK (status IN
                        ('QUEUED', 'RUNNING', 'PAUSED', 'SUCCESS', 'ERROR', 'CANCELLING', 'CANCELLED')),
    input           TEXT    NOT NULL,
    output          TEXT,
    error           TEXT,
    idempotency_key TEXT,
    message_id      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    deadline_at     INTEGER
);

CREATE UNIQUE INDEX pgqrs_runs_key_idx
    ON pgqrs_runs (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX pgqrs_runs_list_idx ON pgqrs_runs (workflow, id);
CREATE INDEX pgqrs_runs_open_idx
    ON pgqrs_runs (deadline_at) WHERE status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');

-- A step is leased like a message: the token fences every write of the worker executing it.
-- seq orders a run's steps as first begun: the insert takes the run's highest seq plus one, and
-- retaking a step never changes it.
CREATE TABLE pgqrs_steps (
    run_id      INTEGER NOT NULL REFERENCES pgqrs_runs (id) ON DELETE CASCADE,
    step_id     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'ERROR', 'RETRY', 'WAITING')),
    output      TEXT,
    output_type TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    lease_until INTEGER,
    wake_at     INTEGER,
    awaiting    TEXT,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE pgqrs_signals (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES pgqrs_runs (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    consumed_by TEXT
);

CREATE INDEX pgqrs_signals_pending_idx
    ON pgqrs_signals (run_id, name, id) WHERE consumed_by IS NULL;
