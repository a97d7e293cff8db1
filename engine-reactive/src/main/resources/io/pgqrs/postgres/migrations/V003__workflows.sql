-- pgqrs PostgreSQL migration 3: workflows, runs, steps, signals.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- A workflow maps 1:1 to the queue of the same name; its trigger messages carry {"run_id": n}.
CREATE TABLE ${schema}.pgqrs_workflows (
    name       text        PRIMARY KEY,
    queue_id   bigint      NOT NULL REFERENCES ${schema}.pgqrs_queues (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);

CREATE TABLE ${schema}.pgqrs_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow        text        NOT NULL REFERENCES ${schema}.pgqrs_workflows (name) ON DELETE CASCADE,
    status          text        NOT NULL CHECK (status IN
                        ('QUEUED', 'RUNNING', 'PAUSED', 'SUCCESS', 'ERROR', 'CANCELLING', 'CANCELLED')),
    input           jsonb       NOT NULL,
    output          jsonb,
    error           text,
    idempotency_key text,
    message_id      bigint,
    attempts        integer     NOT NULL DEFAULT 0,
    failures        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    deadline_at     timestamptz
);

CREATE UNIQUE INDEX pgqrs_runs_key_idx
    ON ${schema}.pgqrs_runs (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX pgqrs_runs_list_idx ON ${schema}.pgqrs_runs (workflow, id);
CREATE INDEX pgqrs_runs_open_idx
    ON ${schema}.pgqrs_runs (deadline_at) WHERE status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');

-- A step is leased like a message: the token fences every write of the worker executing it.
CREATE TABLE ${schema}.pgqrs_steps (
    run_id      bigint      NOT NULL REFERENCES ${schema}.pgqrs_runs (id) ON DELETE CASCADE,
    step_id     text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'ERROR', 'RETRY', 'WAITING')),
    output      jsonb,
    output_type text,
    error       text,
    attempts    integer     NOT NULL DEFAULT 0,
    lease_token uuid,
    lease_until timestamptz,
    wake_at     timestamptz,
    awaiting    text,
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE ${schema}.pgqrs_signals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint      NOT NULL REFERENCES ${schema}.pgqrs_runs (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    value       jsonb       NOT NULL,
    sent_at     timestamptz NOT NULL,
    consumed_by text
);

CREATE INDEX pgqrs_signals_pending_idx
    ON ${schema}.pgqrs_signals (run_id, name, id) WHERE consumed_by IS NULL;
