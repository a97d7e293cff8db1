-- pgqrs PostgreSQL migration 13: message headers.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- Small string metadata stored with a message (a trace context, a correlation id), given at enqueue
-- and read back with the message. Null when a message has none, so existing rows need no rewrite
-- and the column costs nothing on messages without headers.
ALTER TABLE ${schema}.pgqrs_messages ADD COLUMN headers jsonb;
