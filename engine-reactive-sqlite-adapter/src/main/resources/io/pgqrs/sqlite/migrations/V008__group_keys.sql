-- pgqrs SQLite migration 8: per-key fairness in the claim. A message may carry a group key, and a
-- queue may limit how many messages of one key are leased at once. Kept in step with the
-- PostgreSQL migration of the same number.

-- The group key given at enqueue (NULL: none; the messages without a key form one group).
ALTER TABLE pgqrs_messages ADD COLUMN group_key TEXT;

-- The most messages of one group key leased at once (NULL: no per-key limit). A queue with it is
-- claimed round-robin across keys.
ALTER TABLE pgqrs_queues ADD COLUMN max_leased_per_key INTEGER CHECK (max_leased_per_key >= 1);

-- A key's live rows in claim order, read by the fair claim.
CREATE INDEX pgqrs_messages_group_idx
    ON pgqrs_messages (queue_id, group_key, priority DESC, due_at, id, visible_at) WHERE state = 'live';
