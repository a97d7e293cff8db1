package io.pgqrs.internal;

import io.pgqrs.admin.SchedulerReport;
import io.pgqrs.schedule.ScheduleInfo;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The scheduler: fires the due ticks of cron schedules, a batch of due schedules at a time. Due-ness
 * is the store's clock; for each due schedule the ticks to fire (its missed-tick policy applied)
 * and its next tick after the clock are computed here from its cron expression, and the store fires
 * them in the transaction that moves the schedule on from the tick it was read at, so an instance
 * that loses the race for a tick creates nothing. A schedule whose target is missing (workflow not
 * registered, queue deleted) is logged and left due: it fires, as its policy says, once the target
 * exists.
 */
final class ScheduleFirer implements MaintenanceWork<SchedulerReport> {

  private static final Logger log = LoggerFactory.getLogger(ScheduleFirer.class);

  static final String NAME = "scheduler";

  private final StoreDriver driver;
  private final int batchSize;

  ScheduleFirer(StoreDriver driver, int batchSize) {
    this.driver = driver;
    this.batchSize = batchSize;
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * One batch: the schedules read, the ones moved on, the runs or messages created, whether one
   * failed, and the time until the next tick ahead.
   */
  private record Batch(int read, int advanced, long created, boolean failed, @Nullable Duration untilNext) {}

  @Override
  public Mono<SchedulerReport> run(Instant at, BooleanSupplier stopping) {
    return fire(null, at, stopping);
  }

  /**
   * Fires every due schedule by the given clock, in batches. Cold.
   *
   * @param now the clock override (tests), or null for the store's
   * @param at the time the report gives as the turn's
   * @param stopping checked before every batch
   * @return the report
   */
  Mono<SchedulerReport> fire(@Nullable Instant now, Instant at, BooleanSupplier stopping) {
    // A batch counts the schedules it moved on: one that failed makes it short, so a batch of
    // schedules whose targets are missing is not read again at once.
    return MaintenanceWork.batches(() -> batch(now), b -> b.failed() ? 0 : b.read(), batchSize, stopping)
        .collectList()
        .map(batches -> {
          long schedules = 0;
          long created = 0;
          for (Batch b : batches) {
            schedules += b.advanced();
            created += b.created();
          }
          Duration untilNext = batches.isEmpty() ? null : batches.get(batches.size() - 1).untilNext();
          return new SchedulerReport(true, schedules, created, batches.size(), at, untilNext);
        });
  }

  private Mono<Batch> batch(@Nullable Instant now) {
    return driver.dueSchedules(new StoreParams.DueSchedules(batchSize, now))
        .flatMap(due -> Flux.fromIterable(due.due())
            .concatMap(schedule -> fireOne(schedule, due.now(), now)
                .onErrorResume(e -> {
                  log.warn("pgqrs scheduler: schedule '{}' in schema {} could not fire, tried again at the next turn: {}",
                      schedule.name(), driver.schema(), e.toString());
                  return Mono.empty();
                }))
            .collectList()
            .map(fired -> {
              int advanced = 0;
              long created = 0;
              Duration untilNext = due.untilNextFire();
              for (Fired f : fired) {
                if (f.result().advanced()) {
                  advanced++;
                  created += f.result().created();
                }
                // Read before these schedules moved on: their new next ticks may come sooner.
                if (untilNext == null || f.untilNext().compareTo(untilNext) < 0) {
                  untilNext = f.untilNext();
                }
              }
              return new Batch(due.due().size(), advanced, created, fired.size() < due.due().size(), untilNext);
            }));
  }

  /** What firing one schedule did, and how long from the store's clock until its next tick. */
  private record Fired(StoreResults.ScheduleFired result, Duration untilNext) {}

  /** The ticks of one due schedule fired, as its policy says, and the schedule moved past the clock. */
  private Mono<Fired> fireOne(ScheduleInfo schedule, Instant storeNow, @Nullable Instant now) {
    return Mono.defer(() -> {
      CronSchedule cron = CronSchedule.parse(schedule.cron(), schedule.zone());
      List<Instant> ticks = cron.newestDue(schedule.nextFireAt(), storeNow, schedule.missedTicks().maxTicks());
      Instant next = cron.nextAfter(storeNow);
      if (next == null) {
        return Mono.error(new IllegalStateException("cron expression '" + schedule.cron() + "' has no tick after "
            + storeNow));
      }
      if (!ticks.isEmpty()) {
        Instant before = cron.newestDue(schedule.nextFireAt(), ticks.get(0).minusNanos(1), 1).stream().findFirst()
            .orElse(null);
        if (before != null) {
          log.info("pgqrs scheduler: schedule '{}' missed ticks from {} on; fires the newest {} of them ({})",
              schedule.name(), schedule.nextFireAt(), ticks.size(), schedule.missedTicks().skips() ? "skip" : "catch up");
        }
      }
      List<StoreParams.FireTick> fire = new ArrayList<>(ticks.size());
      for (Instant tick : ticks) {
        fire.add(new StoreParams.FireTick(tick, CronSchedule.key(schedule.name(), tick)));
      }
      Duration untilNext = Duration.between(storeNow, next);
      return driver.fireSchedule(new StoreParams.FireSchedule(schedule.name(), schedule.nextFireAt(), next, fire, now))
          .map(result -> new Fired(result, untilNext));
    });
  }

  @Override
  public SchedulerReport notTaken(Instant at) {
    return new SchedulerReport(false, 0, 0, 0, at, null);
  }

  @Override
  public @Nullable String summary(SchedulerReport report) {
    return report.schedulesFired() == 0 ? null
        : "fired " + report.ticksFired() + " tick(s) of " + report.schedulesFired() + " schedule(s)";
  }

  @Override
  public @Nullable Duration nextTurnWithin(SchedulerReport report) {
    return report.untilNextFire();
  }
}
