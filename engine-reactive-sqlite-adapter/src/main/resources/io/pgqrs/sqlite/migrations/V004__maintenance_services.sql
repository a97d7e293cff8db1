-- pgqrs SQLite migration 4: one schedule row per maintenance service, and the indexes of the
-- retention purges. Kept in step with the PostgreSQL migration of the same number. Instants are
-- INTEGER microseconds since the epoch.

-- The single sweep became four services, each taking its own turns on its own row: a store takes
-- a turn with one short UPDATE that moves next_run_at one interval ahead, then works in short
-- batches, each one bounded write.
DELETE FROM pgqrs_sweeps WHERE name = 'maintenance';
-- Seeded due, so the first store to look takes each service's first turn.
INSERT INTO pgqrs_sweeps (name, next_run_at) VALUES
    ('lease-rescuer', 0),
    ('run-reaper', 0),
    ('archive-cleaner', 0),
    ('retention-cleaner', 0)
ON CONFLICT (name) DO NOTHING;

-- The retention cleaner purges the oldest dead letters and finished runs of every queue and workflow.
CREATE INDEX pgqrs_messages_dead_at_idx
    ON pgqrs_messages (dead_at) WHERE state = 'dead';
CREATE INDEX pgqrs_runs_finished_idx
    ON pgqrs_runs (finished_at) WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED');
-- A purged run takes its signals along; the pending-signal index covers unconsumed ones only.
CREATE INDEX pgqrs_signals_run_idx
    ON pgqrs_signals (run_id);
