-- pgqrs SQLite migration 13: message headers. Kept in step with the PostgreSQL migration of the
-- same number.

-- A JSON object of strings as text, or null when the message has none.
ALTER TABLE pgqrs_messages ADD COLUMN headers TEXT;
