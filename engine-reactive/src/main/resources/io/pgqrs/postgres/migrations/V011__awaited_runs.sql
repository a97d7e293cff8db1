-- pgqrs PostgreSQL migration 11: whether anyone outside the executing engine waits for a run.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- A run's finish is announced on the runs channel (a NOTIFY, one more committed statement) only
-- when awaited is true: set by a trigger that leaves the run to the queue (any engine may execute
-- it) and by a result waiter's first look-up of the run. A run taken by a worker of the engine that
-- triggered it, whose waiters are told in process, is never announced unless someone elsewhere
-- asked. Runs that existed before this migration keep being announced (the column's first default).
ALTER TABLE ${schema}.pgqrs_runs ADD COLUMN awaited boolean NOT NULL DEFAULT true;
ALTER TABLE ${schema}.pgqrs_runs ALTER COLUMN awaited SET DEFAULT false;
