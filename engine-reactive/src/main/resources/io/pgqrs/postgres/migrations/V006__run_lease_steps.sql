-- pgqrs PostgreSQL migration 6: workflow runs record their definition's version; steps record their
-- position (the identity in the run that does not depend on the step's name) and the order in which
-- they delivered their results, so one lease per run fences every record and a replay reads the
-- history once.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- Null for a run of an unversioned definition.
ALTER TABLE ${schema}.pgqrs_runs ADD COLUMN version text;

-- The step leases' columns (lease_token, lease_until) stay until the engine no longer takes them.
ALTER TABLE ${schema}.pgqrs_steps
    ADD COLUMN position   text,
    ADD COLUMN completion integer NOT NULL DEFAULT 0;

-- Steps recorded before: their place in the order they were first begun, which is program order for
-- a run without concurrent branches; the finished ones completed in that order too.
UPDATE ${schema}.pgqrs_steps s
SET position = o.n::text,
    completion = CASE WHEN s.status IN ('SUCCESS', 'ERROR') THEN o.n ELSE 0 END
FROM (SELECT run_id, step_id, row_number() OVER (PARTITION BY run_id ORDER BY seq) AS n
      FROM ${schema}.pgqrs_steps) o
WHERE s.run_id = o.run_id AND s.step_id = o.step_id;

CREATE UNIQUE INDEX pgqrs_steps_position_idx ON ${schema}.pgqrs_steps (run_id, position);
