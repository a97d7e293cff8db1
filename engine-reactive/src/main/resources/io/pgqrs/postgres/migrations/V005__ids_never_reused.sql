-- pgqrs PostgreSQL migration 5: ids are never reused.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- Nothing to change here: identity columns draw from sequences, which never hand out a value twice,
-- also after the row of the highest id is deleted. SQLite's migration of the same number rebuilds
-- its tables with AUTOINCREMENT to give the same guarantee; this one records it where psql's \d+
-- shows it.
COMMENT ON COLUMN ${schema}.pgqrs_queues.id IS 'Never reused, also after the queue is deleted.';
COMMENT ON COLUMN ${schema}.pgqrs_workers.id IS 'Never reused, also after the worker is deleted.';
COMMENT ON COLUMN ${schema}.pgqrs_messages.id IS 'Never reused, also after the message is deleted.';
COMMENT ON COLUMN ${schema}.pgqrs_runs.id IS 'Never reused, also after the run is deleted.';
COMMENT ON COLUMN ${schema}.pgqrs_signals.id IS 'Never reused, also after the signal is deleted.';
