-- pgqrs SQLite migration 5: ids are never reused. Kept in step with the PostgreSQL migration of the
-- same number. Instants are INTEGER microseconds since the epoch; JSON is TEXT; lease tokens are
-- TEXT UUIDs.
--
-- An INTEGER PRIMARY KEY without AUTOINCREMENT takes the highest id plus one, so deleting the row
-- of the highest id handed its id to the next insert, and a stale handle (a message id, a run id, a
-- worker id) found another row. AUTOINCREMENT never hands out an id twice, as PostgreSQL's identity
-- columns do not. SQLite cannot add it to a table: each table is rebuilt with the same columns,
-- defaults, constraints and indexes, and its rows copied with their ids.
--
-- install() runs this in its transaction, where PRAGMA foreign_keys cannot be switched off, and
-- dropping a table deletes its rows first, cascading to the tables that reference it. So every
-- table of the foreign-key graph is rebuilt, workflows and steps too: the old tables are renamed
-- out of the way (their references follow them), the new ones created under the real names and
-- filled parents first, and the old ones dropped children first, when nothing references them any
-- more. Copying rows with their ids sets sqlite_sequence to each table's highest id, so ids go on
-- from there. pgqrs_sweeps and pgqrs_migrations are neither referenced nor referencing, and keep
-- their rows as they are.

ALTER TABLE pgqrs_signals RENAME TO pgqrs_signals_old;
ALTER TABLE pgqrs_steps RENAME TO pgqrs_steps_old;
ALTER TABLE pgqrs_runs RENAME TO pgqrs_runs_old;
ALTER TABLE pgqrs_workflows RENAME TO pgqrs_workflows_old;
ALTER TABLE pgqrs_messages RENAME TO pgqrs_messages_old;
ALTER TABLE pgqrs_workers RENAME TO pgqrs_workers_old;
ALTER TABLE pgqrs_queues RENAME TO pgqrs_queues_old;

CREATE TABLE pgqrs_queues (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    created_at   INTEGER NOT NULL
);

CREATE TABLE pgqrs_workers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    queue_id     INTEGER REFERENCES pgqrs_queues (id) ON DELETE CASCADE,
    hostname     TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('ready', 'suspended', 'stopped')),
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER
);

CREATE TABLE pgqrs_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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

-- A workflow maps 1:1 to the queue of the same name; its trigger messages carry {"run_id": n}.
CREATE TABLE pgqrs_workflows (
    name       TEXT    PRIMARY KEY,
    queue_id   INTEGER NOT NULL REFERENCES pgqrs_queues (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

CREATE TABLE pgqrs_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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

-- A step is leased like a message: the token fences every write of the worker executing it.
-- seq orders a run's steps as first begun: the insert takes the run's highest seq plus one, and
-- retaking a step never changes it. Its key is (run_id, step_id), not an id of its own.
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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES pgqrs_runs (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    consumed_by TEXT
);

INSERT INTO pgqrs_queues (id, name, max_attempts, created_at)
SELECT id, name, max_attempts, created_at FROM pgqrs_queues_old;

INSERT INTO pgqrs_workers (id, name, queue_id, hostname, pid, status, started_at, heartbeat_at, stopped_at)
SELECT id, name, queue_id, hostname, pid, status, started_at, heartbeat_at, stopped_at FROM pgqrs_workers_old;

INSERT INTO pgqrs_messages (id, queue_id, payload, state, priority, attempts, enqueued_at, visible_at, lease_token,
                            lease_owner, dedup_key, last_error, archived_at, dead_at)
SELECT id, queue_id, payload, state, priority, attempts, enqueued_at, visible_at, lease_token,
       lease_owner, dedup_key, last_error, archived_at, dead_at
FROM pgqrs_messages_old;

INSERT INTO pgqrs_workflows (name, queue_id, created_at)
SELECT name, queue_id, created_at FROM pgqrs_workflows_old;

INSERT INTO pgqrs_runs (id, workflow, status, input, output, error, idempotency_key, message_id, attempts, failures,
                        created_at, updated_at, started_at, finished_at, deadline_at)
SELECT id, workflow, status, input, output, error, idempotency_key, message_id, attempts, failures,
       created_at, updated_at, started_at, finished_at, deadline_at
FROM pgqrs_runs_old;

INSERT INTO pgqrs_steps (run_id, step_id, status, output, output_type, error, attempts, lease_token, lease_until,
                         wake_at, awaiting, started_at, updated_at, finished_at, seq)
SELECT run_id, step_id, status, output, output_type, error, attempts, lease_token, lease_until,
       wake_at, awaiting, started_at, updated_at, finished_at, seq
FROM pgqrs_steps_old;

INSERT INTO pgqrs_signals (id, run_id, name, value, sent_at, consumed_by)
SELECT id, run_id, name, value, sent_at, consumed_by FROM pgqrs_signals_old;

-- Children first: a dropped table's implicit DELETE cascades only to old tables already gone. Their
-- indexes go with them and are made again below, on the new tables, under the same names.
DROP TABLE pgqrs_signals_old;
DROP TABLE pgqrs_steps_old;
DROP TABLE pgqrs_runs_old;
DROP TABLE pgqrs_workflows_old;
DROP TABLE pgqrs_messages_old;
DROP TABLE pgqrs_workers_old;
DROP TABLE pgqrs_queues_old;

-- Migration 1.
CREATE INDEX pgqrs_workers_queue_idx ON pgqrs_workers (queue_id);
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

-- Migration 2.
CREATE INDEX pgqrs_messages_archived_at_idx
    ON pgqrs_messages (archived_at) WHERE state = 'archived';

-- Migration 3.
CREATE UNIQUE INDEX pgqrs_runs_key_idx
    ON pgqrs_runs (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX pgqrs_runs_list_idx ON pgqrs_runs (workflow, id);
CREATE INDEX pgqrs_runs_open_idx
    ON pgqrs_runs (deadline_at) WHERE status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');
CREATE INDEX pgqrs_signals_pending_idx
    ON pgqrs_signals (run_id, name, id) WHERE consumed_by IS NULL;

-- Migration 4.
CREATE INDEX pgqrs_messages_dead_at_idx
    ON pgqrs_messages (dead_at) WHERE state = 'dead';
CREATE INDEX pgqrs_runs_finished_idx
    ON pgqrs_runs (finished_at) WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED');
CREATE INDEX pgqrs_signals_run_idx
    ON pgqrs_signals (run_id);
