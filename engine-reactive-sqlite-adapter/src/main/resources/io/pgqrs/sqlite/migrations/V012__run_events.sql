-- pgqrs SQLite migration 12: events of runs, values a run sets for readers outside it. Kept in
-- step with the PostgreSQL migration of the same number.

-- One row per value set, written with the step that sets it (position: that step's). SQLite's
-- one writer makes seq grow in commit order.
CREATE TABLE pgqrs_run_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES pgqrs_runs (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    position   TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX pgqrs_run_events_position_idx ON pgqrs_run_events (run_id, position);
CREATE INDEX pgqrs_run_events_run_idx ON pgqrs_run_events (run_id, seq);
