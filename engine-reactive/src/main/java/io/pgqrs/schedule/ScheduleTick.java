package io.pgqrs.schedule;

import io.pgqrs.internal.CronSchedule;
import io.pgqrs.queue.Message;
import io.pgqrs.workflow.RunInfo;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The tick a run or message was created for by a schedule: the schedule's name, the tick's
 * scheduled time (a whole second) and the actual firing time, both by the store's clock.
 *
 * <p>Where the times travel: a fired run carries the idempotency key, and a fired message the
 * dedup key, {@code schedule:<name>:<tick in epoch seconds>}; the firing time is the run's
 * {@link RunInfo#createdAt()} or the message's {@link Message#enqueuedAt()}, since the run or
 * message is created in the transaction that fires the tick. The input or payload is the
 * schedule's own, unchanged. Inside a workflow body, read the run with
 * {@code store.runs().get(ctx.runId())} and pass it to {@link #of(RunInfo)}.
 *
 * @param schedule the schedule's name
 * @param scheduledAt the tick's time
 * @param firedAt when it was fired
 */
public record ScheduleTick(String schedule, Instant scheduledAt, Instant firedAt) {

  /**
   * The tick a run was triggered for.
   *
   * @param run the run
   * @return the tick, or empty when the run was not triggered by a schedule
   */
  public static Optional<ScheduleTick> of(RunInfo run) {
    return parse(run.idempotencyKey(), run.createdAt());
  }

  /**
   * The tick a message was enqueued for.
   *
   * @param message the message
   * @return the tick, or empty when the message was not enqueued by a schedule
   */
  public static Optional<ScheduleTick> of(Message message) {
    return parse(message.dedupKey(), message.enqueuedAt());
  }

  private static Optional<ScheduleTick> parse(@Nullable String key, Instant firedAt) {
    if (key == null || !key.startsWith(CronSchedule.KEY_PREFIX)) {
      return Optional.empty();
    }
    int colon = key.lastIndexOf(':');
    if (colon <= CronSchedule.KEY_PREFIX.length()) {
      return Optional.empty();
    }
    try {
      long seconds = Long.parseLong(key.substring(colon + 1));
      return Optional.of(new ScheduleTick(key.substring(CronSchedule.KEY_PREFIX.length(), colon),
          Instant.ofEpochSecond(seconds), firedAt));
    } catch (NumberFormatException | java.time.DateTimeException e) {
      return Optional.empty();
    }
  }
}
