-- pgqrs SQLite migration 9: the live rows of a queue in the order they become visible. Kept in
-- step with the PostgreSQL migration of the same number.

-- The time until a queue's next message is visible is the first entry of this index, whatever the
-- archive holds.
CREATE INDEX pgqrs_messages_visible_idx
    ON pgqrs_messages (queue_id, visible_at) WHERE state = 'live';
