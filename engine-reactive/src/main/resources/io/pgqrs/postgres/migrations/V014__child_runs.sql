-- pgqrs PostgreSQL migration 14: child runs.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- A run started by another run's RunContext.child names its parent; cancel_with_parent tells
-- whether cancelling the parent cancels it. Null for every run that is not a child, so existing
-- rows need no rewrite.
ALTER TABLE ${schema}.pgqrs_runs
    ADD COLUMN parent_run_id bigint,
    ADD COLUMN cancel_with_parent boolean NOT NULL DEFAULT true;

CREATE INDEX pgqrs_runs_parent_idx ON ${schema}.pgqrs_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
