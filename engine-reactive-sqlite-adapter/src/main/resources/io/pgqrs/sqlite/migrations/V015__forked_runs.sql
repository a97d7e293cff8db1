-- pgqrs SQLite migration 15: forked runs. Kept in step with the PostgreSQL migration of the same
-- number.

ALTER TABLE pgqrs_runs ADD COLUMN forked_from INTEGER;
