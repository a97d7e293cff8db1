package io.pgqrs.internal;

import io.pgqrs.schedule.NewSchedule;
import io.pgqrs.schedule.ScheduleInfo;
import io.pgqrs.schedule.ScheduleNotFoundException;
import io.pgqrs.schedule.Schedules;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Instant;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The schedules facet: the cron rules (parsing, the first tick, the tick a resume takes) applied
 * here, by the store's clock read from the store, and the rows kept by the driver.
 */
final class DefaultSchedules implements Schedules {

  private final StoreDriver driver;
  private final WorkflowRuntime runtime;

  DefaultSchedules(StoreDriver driver, WorkflowRuntime runtime) {
    this.driver = driver;
    this.runtime = runtime;
  }

  @Override
  public Mono<ScheduleInfo> create(NewSchedule schedule) {
    Objects.requireNonNull(schedule, "schedule");
    return Mono.defer(() -> params(schedule).flatMap(driver::createSchedule));
  }

  /**
   * Creates or updates a schedule a workflow definition declares (see
   * {@link io.pgqrs.workflow.WorkflowDefinition#withSchedule}). Cold.
   *
   * @param schedule the declared schedule
   * @return the schedule after the change
   */
  Mono<ScheduleInfo> declare(NewSchedule schedule) {
    return Mono.defer(() -> params(schedule).flatMap(driver::declareSchedule));
  }

  /** The store's parameters: the input serialized and the first tick after the store's clock. */
  private Mono<StoreParams.CreateSchedule> params(NewSchedule schedule) {
    CronSchedule cron = CronSchedule.parse(schedule.cron(), schedule.zone());
    String json = runtime.toJson(schedule.input(), (schedule.triggersWorkflow() ? "the input" : "the payload")
        + " of schedule '" + schedule.name() + "'");
    return driver.currentTime(null).map(now -> new StoreParams.CreateSchedule(schedule.name(), cron.expression(),
        schedule.zone().getId(), schedule.triggersWorkflow(), schedule.target(), schedule.version(), json,
        schedule.timeout(), schedule.missedTicks().maxTicks(), firstTickAfter(cron, now), null));
  }

  private static Instant firstTickAfter(CronSchedule cron, Instant now) {
    Instant next = cron.nextAfter(now);
    if (next == null) {
      throw new io.pgqrs.InvalidArgumentException("cron", "cron expression '" + cron.expression()
          + "' has no tick after " + now);
    }
    return next;
  }

  @Override
  public Flux<ScheduleInfo> list() {
    return driver.listSchedules();
  }

  @Override
  public Mono<ScheduleInfo> get(String name) {
    return Mono.defer(() -> driver.findSchedule(CronSchedule.checkName(name)))
        .switchIfEmpty(Mono.error(() -> new ScheduleNotFoundException(name)));
  }

  @Override
  public Mono<ScheduleInfo> pause(String name) {
    return Mono.defer(() -> driver.pauseSchedule(new StoreParams.PauseSchedule(CronSchedule.checkName(name), true,
            null, null)))
        .switchIfEmpty(Mono.error(() -> new ScheduleNotFoundException(name)));
  }

  @Override
  public Mono<ScheduleInfo> resume(String name) {
    return resume(name, null);
  }

  /**
   * Resumes a schedule from its first tick after a clock. Cold.
   *
   * @param name the schedule
   * @param now the clock override (tests), or null for the store's
   * @return the schedule after the change
   */
  Mono<ScheduleInfo> resume(String name, java.time.@org.jspecify.annotations.Nullable Instant now) {
    return get(name).flatMap(schedule -> {
      if (!schedule.paused()) {
        return Mono.just(schedule);
      }
      CronSchedule cron = CronSchedule.parse(schedule.cron(), schedule.zone());
      return driver.currentTime(now)
          .flatMap(at -> driver.pauseSchedule(new StoreParams.PauseSchedule(name, false, firstTickAfter(cron, at),
              now)))
          .switchIfEmpty(Mono.error(() -> new ScheduleNotFoundException(name)));
    });
  }

  @Override
  public Mono<Void> delete(String name) {
    return Mono.defer(() -> driver.deleteSchedule(CronSchedule.checkName(name)))
        .flatMap(deleted -> deleted ? Mono.<Void>empty() : Mono.error(new ScheduleNotFoundException(name)));
  }
}
