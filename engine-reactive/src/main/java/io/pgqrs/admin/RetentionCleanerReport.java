package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one turn of the retention cleaner did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param deadLettersPurged dead-lettered messages deleted for being dead longer than the dead-letter
 *     retention
 * @param runsPurged finished workflow runs deleted for having finished longer ago than the
 *     finished-run retention
 * @param stepsPurged the steps of those runs
 * @param signalsPurged the signals of those runs
 * @param workersPurged stopped workers holding no lease deleted for having stopped longer ago than
 *     the stopped-worker retention
 * @param batches how many batches ran, over the three kinds of rows
 * @param at the store's clock when the turn was taken or looked at
 */
public record RetentionCleanerReport(boolean ran, long deadLettersPurged, long runsPurged, long stepsPurged,
    long signalsPurged, long workersPurged, int batches, Instant at) implements MaintenanceReport {}
