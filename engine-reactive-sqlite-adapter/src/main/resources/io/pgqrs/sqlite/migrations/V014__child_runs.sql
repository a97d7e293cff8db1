-- pgqrs SQLite migration 14: child runs. Kept in step with the PostgreSQL migration of the same
-- number.

ALTER TABLE pgqrs_runs ADD COLUMN parent_run_id INTEGER;
ALTER TABLE pgqrs_runs ADD COLUMN cancel_with_parent INTEGER NOT NULL DEFAULT 1;
CREATE INDEX pgqrs_runs_parent_idx ON pgqrs_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
