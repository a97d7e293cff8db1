package io.pgqrs.schedule;

import java.time.Instant;
import java.time.ZoneId;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one schedule.
 *
 * @param name the schedule's name
 * @param cron the cron expression, as given (5 fields, or 6 with seconds first)
 * @param zone the time zone the expression is read in
 * @param target what each tick does
 * @param missedTicks what happens when several ticks are due at once
 * @param paused whether it is paused (a paused schedule fires nothing)
 * @param nextFireAt the next tick to fire, by the store's clock; while paused, the tick that was
 *     next when it was paused (resuming moves it to the first tick after the store's clock)
 * @param lastFiredAt the newest tick fired so far, or null if none has
 * @param createdAt when it was created, by the store's clock
 * @param updatedAt when its definition or paused flag last changed
 */
public record ScheduleInfo(
    String name,
    String cron,
    ZoneId zone,
    ScheduleTarget target,
    MissedTicks missedTicks,
    boolean paused,
    Instant nextFireAt,
    @Nullable Instant lastFiredAt,
    Instant createdAt,
    Instant updatedAt) {}
