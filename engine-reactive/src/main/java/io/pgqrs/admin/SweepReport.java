package io.pgqrs.admin;

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
 * @param runsFailed workflow runs ended by the sweep: past their deadline with no worker holding
 *     them (ERROR), or whose trigger message was dead-lettered after repeated failed deliveries
 *     (ERROR; CANCELLED if a cancel was pending)
 * @param at the store's clock when the sweep ran or was skipped
 */
public record SweepReport(boolean ran, long workersReclaimed, long messagesReleased, long archivedPurged, long runsFailed,
    Instant at) {}
