-- pgqrs PostgreSQL migration 12: events of runs, values a run sets for readers outside it
-- (RunContext.setEvent, RunHandle.events).
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- One row per value set, written with the step that sets it (position: that step's), so a
-- replayed step writes no second row. seq orders the values: the writes of one run's events lock
-- the run's row, so within a run seq grows in commit order and a reader's cursor skips nothing.
CREATE TABLE ${schema}.pgqrs_run_events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     bigint      NOT NULL REFERENCES ${schema}.pgqrs_runs (id) ON DELETE CASCADE,
    key        text        NOT NULL,
    position   text        NOT NULL,
    value      jsonb       NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX pgqrs_run_events_position_idx ON ${schema}.pgqrs_run_events (run_id, position);
CREATE INDEX pgqrs_run_events_run_idx ON ${schema}.pgqrs_run_events (run_id, seq);
