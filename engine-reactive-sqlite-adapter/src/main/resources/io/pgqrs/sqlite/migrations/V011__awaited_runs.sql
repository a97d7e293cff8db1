-- pgqrs SQLite migration 11: whether anyone outside the executing engine waits for a run. Kept in
-- step with the PostgreSQL migration of the same number.

-- PostgreSQL announces a finished run only when this is set. SQLite announces nothing (waiters in
-- other engines poll), so nothing here reads or sets it; it keeps the two schemas alike.
ALTER TABLE pgqrs_runs ADD COLUMN awaited INTEGER NOT NULL DEFAULT 0;
