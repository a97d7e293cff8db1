package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one turn of the run reaper did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param runsFailed workflow runs ended because no worker will finish them: past their deadline
 *     with no worker holding them (ERROR), or whose trigger message was dead-lettered after repeated
 *     failed deliveries (ERROR); either ends CANCELLED if a cancel was pending
 * @param batches how many batches ran
 * @param at the store's clock when the turn was taken or looked at
 */
public record RunReaperReport(boolean ran, long runsFailed, int batches, Instant at) implements MaintenanceReport {}
