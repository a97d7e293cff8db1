package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one turn of the archive cleaner did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param archivedPurged archived messages deleted for being older than the archive retention
 * @param batches how many batches ran
 * @param at the store's clock when the turn was taken or looked at
 */
public record ArchiveCleanerReport(boolean ran, long archivedPurged, int batches, Instant at)
    implements MaintenanceReport {}
