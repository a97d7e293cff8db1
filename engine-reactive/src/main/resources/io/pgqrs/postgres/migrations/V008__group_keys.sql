-- pgqrs PostgreSQL migration 8: per-key fairness in the claim. A message may carry a group key, and
-- a queue may limit how many messages of one key are leased at once.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- The group key given at enqueue (NULL: none; the messages without a key form one group).
ALTER TABLE ${schema}.pgqrs_messages ADD COLUMN group_key text;

-- The most messages of one group key leased at once (NULL: no per-key limit). A queue with it is
-- claimed round-robin across keys, under the lock of its row.
ALTER TABLE ${schema}.pgqrs_queues ADD COLUMN max_leased_per_key integer CHECK (max_leased_per_key >= 1);

-- The fair claim walks the distinct keys of a queue's live rows (a loose index scan: one probe per
-- key) and each key's first rows in claim order, never the whole backlog; visible_at as the last
-- key is checked on the index entry, as in the claim index.
CREATE INDEX pgqrs_messages_group_idx
    ON ${schema}.pgqrs_messages (queue_id, group_key, priority DESC, due_at, id, visible_at) WHERE state = 'live';
