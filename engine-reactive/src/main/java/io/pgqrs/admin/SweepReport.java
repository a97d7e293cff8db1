package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one run of every maintenance service did ({@link Maintenance#runOnce()}): the counts of the
 * four services' reports together.
 *
 * @param ran true when at least one service took its turn; false when every turn was skipped
 *     because other instances were taking them at that moment, the counts are then zero
 * @param workersReclaimed ready or suspended workers whose heartbeat had gone stale, now stopped
 * @param messagesReleased unexpired leases of those workers, released so the messages are claimable
 *     at once (their attempts are kept)
 * @param archivedPurged archived messages deleted for being older than the archive retention
 * @param runsFailed workflow runs ended by the run reaper: past their deadline with no worker
 *     holding them (ERROR), or whose trigger message was dead-lettered after repeated failed
 *     deliveries (ERROR; CANCELLED if a cancel was pending)
 * @param deadLettersPurged dead-lettered messages deleted for being older than the dead-letter
 *     retention
 * @param runsPurged finished runs deleted for being older than the finished-run retention
 * @param stepsPurged the steps of those runs
 * @param signalsPurged the signals of those runs
 * @param workersPurged stopped workers deleted for being older than the stopped-worker retention
 * @param at the store's clock when the first service's turn was taken or looked at
 */
public record SweepReport(boolean ran, long workersReclaimed, long messagesReleased, long archivedPurged, long runsFailed,
    long deadLettersPurged, long runsPurged, long stepsPurged, long signalsPurged, long workersPurged, Instant at) {}
