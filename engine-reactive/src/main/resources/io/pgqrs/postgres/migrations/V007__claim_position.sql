-- pgqrs PostgreSQL migration 7: flow control in the claim. A message keeps its place in the claim
-- order while it is leased, and a queue may limit how many of its messages are leased at once.
-- ${schema} is replaced by the quoted schema name; every object is schema-qualified.

-- due_at is when the message became (or becomes) due: set at enqueue and by every release, retry
-- or wake-up, left alone by claim and extend. The claim orders by it instead of visible_at, which a
-- lease moves to the lease's end: a message whose lease expired is claimable again at the place it
-- had before the lease, not behind everything enqueued while it was held.
ALTER TABLE ${schema}.pgqrs_messages ADD COLUMN due_at timestamptz;

-- Rows written before: an unleased message is due when it is visible; a leased one's place before
-- its lease is not recorded, so it goes back to its enqueue time, the earliest it can have had.
UPDATE ${schema}.pgqrs_messages
SET due_at = CASE WHEN lease_token IS NULL THEN visible_at ELSE enqueued_at END;

ALTER TABLE ${schema}.pgqrs_messages ALTER COLUMN due_at SET NOT NULL;

-- The claim walks live rows in (priority, due_at, id) order and skips the leased ones by
-- visible_at; as the index's last key visible_at is checked on the index entry, without reading
-- the row, so the leases held at the head of the queue cost an index entry each.
DROP INDEX ${schema}.pgqrs_messages_claim_idx;
CREATE INDEX pgqrs_messages_claim_idx
    ON ${schema}.pgqrs_messages (queue_id, priority DESC, due_at, id, visible_at) WHERE state = 'live';

-- A queue's global concurrency limit (NULL: none). The claim of a limited queue locks the queue row
-- and counts its live leases; leases_granted counts every lease such claims granted, so a claim
-- whose snapshot predates the claims it waited for still counts theirs (READ COMMITTED re-reads
-- only the locked row).
ALTER TABLE ${schema}.pgqrs_queues
    ADD COLUMN max_leased     integer CHECK (max_leased >= 1),
    ADD COLUMN leases_granted bigint NOT NULL DEFAULT 0;

-- A queue's claim rate limit (NULL: none), a token bucket taken by the claim under the same lock:
-- claim_tokens as of claim_tokens_at, refilled at claim_rate per second up to claim_rate.
ALTER TABLE ${schema}.pgqrs_queues
    ADD COLUMN claim_rate      integer CHECK (claim_rate >= 1),
    ADD COLUMN claim_tokens    double precision,
    ADD COLUMN claim_tokens_at timestamptz;

-- The live leases of a queue, read by the claim of a limited queue: as many entries as messages
-- are leased, however long the backlog.
CREATE INDEX pgqrs_messages_leased_idx
    ON ${schema}.pgqrs_messages (queue_id, visible_at) WHERE state = 'live' AND lease_token IS NOT NULL;
