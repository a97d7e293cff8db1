-- pgqrs SQLite migration 7: flow control in the claim. A message keeps its place in the claim order
-- while it is leased, and a queue may limit how many of its messages are leased at once. Kept in
-- step with the PostgreSQL migration of the same number. Instants are INTEGER microseconds since
-- the epoch.
--
-- due_at is when the message became (or becomes) due: set at enqueue and by every release, retry
-- or wake-up, left alone by claim and extend. The claim orders by it instead of visible_at, which a
-- lease moves to the lease's end: a message whose lease expired is claimable again at the place it
-- had before the lease, not behind everything enqueued while it was held. SQLite adds a NOT NULL
-- column only with a default; every statement that inserts a message sets it.

ALTER TABLE pgqrs_messages ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;

-- Rows written before: an unleased message is due when it is visible; a leased one's place before
-- its lease is not recorded, so it goes back to its enqueue time, the earliest it can have had.
UPDATE pgqrs_messages SET due_at = CASE WHEN lease_token IS NULL THEN visible_at ELSE enqueued_at END;

-- The claim walks live rows in (priority, due_at, id) order and skips the leased ones by
-- visible_at, which as the index's last column is read from the index entry.
DROP INDEX pgqrs_messages_claim_idx;
CREATE INDEX pgqrs_messages_claim_idx
    ON pgqrs_messages (queue_id, priority DESC, due_at, id, visible_at) WHERE state = 'live';

-- A queue's global concurrency limit (NULL: none). The one writer serialises claims, so no count of
-- granted leases is needed, unlike on PostgreSQL.
ALTER TABLE pgqrs_queues ADD COLUMN max_leased INTEGER CHECK (max_leased >= 1);

-- A queue's claim rate limit (NULL: none), a token bucket the claim takes: claim_tokens as of
-- claim_tokens_at, refilled at claim_rate per second up to claim_rate.
ALTER TABLE pgqrs_queues ADD COLUMN claim_rate INTEGER CHECK (claim_rate >= 1);
ALTER TABLE pgqrs_queues ADD COLUMN claim_tokens REAL;
ALTER TABLE pgqrs_queues ADD COLUMN claim_tokens_at INTEGER;

-- The live leases of a queue, read by the claim of a limited queue.
CREATE INDEX pgqrs_messages_leased_idx
    ON pgqrs_messages (queue_id, visible_at) WHERE state = 'live' AND lease_token IS NOT NULL;
