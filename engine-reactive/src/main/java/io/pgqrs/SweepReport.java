package io.pgqrs;

import java.time.Instant;

/**
 * What one maintenance sweep did.
 *
 * @param ran false when the sweep was skipped because another instance was sweeping (or, for the
 *     background schedule, because the sweep was not due); the counts are then zero
 * @param workersReclaimed ready or suspended workers whose heartbeat had gone stale, now stopped
 * @param messagesReleased unexpired leases of those workers, released so the messages are claimable
 *     at once (their attempts are kept)
 * @param archivedPurged archived messages deleted for being older than the archive retention
 * @param at the store's clock when the sweep ran or was skipped
 */
public record SweepReport(boolean ran, long workersReclaimed, long messagesReleased, long archivedPurged, Instant at) {}
