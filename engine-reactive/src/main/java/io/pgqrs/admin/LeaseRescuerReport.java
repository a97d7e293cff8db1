package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one turn of the lease rescuer did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param workersStopped ready or suspended workers whose heartbeat had gone stale, now stopped
 * @param messagesReleased unexpired leases of those workers, released so the messages are claimable
 *     at once (their attempts are kept, {@code last_error} says why)
 * @param batches how many batches ran
 * @param at the store's clock when the turn was taken or looked at
 */
public record LeaseRescuerReport(boolean ran, long workersStopped, long messagesReleased, int batches, Instant at)
    implements MaintenanceReport {}
