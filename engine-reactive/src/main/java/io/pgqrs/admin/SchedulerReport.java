package io.pgqrs.admin;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What one turn of the scheduler did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param schedulesFired how many due schedules this turn moved on (each fired its due ticks, as
 *     its missed-tick policy says); a schedule another instance moved on first is not counted
 * @param ticksFired how many runs were triggered and messages enqueued
 * @param batches how many batches ran
 * @param at the store's clock when the turn was taken or looked at
 * @param untilNextFire how long after the last batch the next tick of a schedule that is not
 *     paused comes, by the store's clock; null when none is ahead or the turn was not taken
 */
public record SchedulerReport(boolean ran, long schedulesFired, long ticksFired, int batches, Instant at,
    @Nullable Duration untilNextFire) implements MaintenanceReport {}
