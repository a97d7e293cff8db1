-- pgqrs SQLite migration 6: steps recorded under the run's message lease. Kept in step with the
-- PostgreSQL migration of the same number. Instants are INTEGER microseconds since the epoch.
--
-- A run records the version of the definition it was triggered on (NULL for an unversioned one).
-- A step records its position, its identity in the run independent of its name, and the order in
-- which it delivered its result (completion), which a replay reproduces. Steps are written fenced
-- by the lease of the run's message; the step lease columns (lease_token, lease_until) stay, for
-- the step-lease statements the engine still uses, and are NULL on steps written the new way.

ALTER TABLE pgqrs_runs ADD COLUMN version TEXT;

ALTER TABLE pgqrs_steps ADD COLUMN position TEXT;
ALTER TABLE pgqrs_steps ADD COLUMN completion INTEGER NOT NULL DEFAULT 0;

-- Steps written before: their position is their place in the run in the order first begun (seq,
-- then rowid), and a finished one (SUCCESS or ERROR) completed in that order too. No window
-- functions: a correlated count works on every SQLite-dialect engine.
UPDATE pgqrs_steps
SET position = CAST((SELECT count(*) FROM pgqrs_steps o
                     WHERE o.run_id = pgqrs_steps.run_id
                       AND (o.seq < pgqrs_steps.seq OR (o.seq = pgqrs_steps.seq AND o.rowid <= pgqrs_steps.rowid)))
                    AS TEXT);
UPDATE pgqrs_steps
SET completion = CASE WHEN status IN ('SUCCESS', 'ERROR') THEN CAST(position AS INTEGER) ELSE 0 END;

-- A position names one step of a run. Steps of the step-lease statements have none (NULLs are
-- distinct in a unique index).
CREATE UNIQUE INDEX pgqrs_steps_position_idx ON pgqrs_steps (run_id, position);
