-- pgqrs PostgreSQL migration 4: one schedule row per maintenance service, and the indexes of the
-- retention purges.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- The single sweep became four services, each taking its own turns on its own row: an instance
-- takes a turn with one short UPDATE (FOR UPDATE SKIP LOCKED in a subselect) that moves
-- next_run_at one interval ahead, then works in short batches holding nothing.
DELETE FROM ${schema}.pgqrs_sweeps WHERE name = 'maintenance';
-- Seeded due, so the first instance to look takes each service's first turn.
INSERT INTO ${schema}.pgqrs_sweeps (name, next_run_at) VALUES
    ('lease-rescuer', 'epoch'),
    ('run-reaper', 'epoch'),
    ('archive-cleaner', 'epoch'),
    ('retention-cleaner', 'epoch')
ON CONFLICT (name) DO NOTHING;

-- The retention cleaner purges the oldest dead letters and finished runs of every queue and workflow.
CREATE INDEX pgqrs_messages_dead_at_idx
    ON ${schema}.pgqrs_messages (dead_at) WHERE state = 'dead';
CREATE INDEX pgqrs_runs_finished_idx
    ON ${schema}.pgqrs_runs (finished_at) WHERE status IN ('SUCCESS', 'ERROR', 'CANCELLED');
-- A purged run takes its signals along; the pending-signal index covers unconsumed ones only.
CREATE INDEX pgqrs_signals_run_idx
    ON ${schema}.pgqrs_signals (run_id);
