package io.pgqrs.internal;

import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.admin.MaintenanceReport;
import io.pgqrs.admin.MaintenanceService;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * One maintenance service of an engine instance: a loop on a Reactor timer that, about every
 * interval (±20 % jitter, so instances started together drift apart), takes the service's turn in
 * the store and, if it got it, runs the service's {@link MaintenanceWork}. One loop per service, so
 * a service's turns never overlap within an instance; the turn keeps instances from repeating each
 * other's work; the batches keep each row processed once whatever overlaps. A failed turn is logged
 * and the loop goes on.
 *
 * <p>{@link #start()} and {@link #stop()} are idempotent; after {@link #shutdown()} nothing starts
 * again. Stopping ends the wait for the next turn at once and lets a turn in progress finish the
 * batch it is running, for at most {@link #STOP_GRACE}; after that the batch is cancelled.
 *
 * @param <R> the report of one turn
 */
final class ScheduledMaintenanceService<R extends MaintenanceReport> implements MaintenanceService<R> {

  private static final Logger log = LoggerFactory.getLogger(ScheduledMaintenanceService.class);

  /** How long {@link #stop()} waits for the batch in progress before cancelling it. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final MaintenanceWork<R> work;
  private final StoreDriver driver;
  private final String instance;
  /** The wait between background turns; zero when they are off. */
  private final Duration interval;
  /** How far each turn moves the shared schedule on. */
  private final Duration turnInterval;
  private final Scheduler timer;
  private final Object lock = new Object();
  /** The running loop, or the one still stopping; null when none is. Guarded by {@link #lock}. */
  private @Nullable Loop current;
  /** Set by {@link #shutdown()}: nothing starts again. */
  private volatile boolean closed;

  /** One run of the background loop, from {@link #start()} to the end of {@link #stop()}. */
  private static final class Loop {
    final Sinks.Empty<Void> stopSignal = Sinks.empty();
    final Sinks.Empty<Void> ended = Sinks.empty();
    final Disposable.Swap subscription = Disposables.swap();
    volatile boolean stopping;
  }

  /**
   * Creates a service; nothing runs before {@link #start()}.
   *
   * @param work what a turn does
   * @param driver the store
   * @param instance this engine instance's name, recorded with the turns it takes
   * @param interval the wait between background turns; zero turns them off
   * @param turnInterval how far each turn moves the schedule shared by every instance on
   *     (above zero)
   * @param timer the scheduler of the wait
   */
  ScheduledMaintenanceService(MaintenanceWork<R> work, StoreDriver driver, String instance, Duration interval,
      Duration turnInterval, Scheduler timer) {
    this.work = work;
    this.driver = driver;
    this.instance = instance;
    this.interval = interval;
    this.turnInterval = turnInterval;
    this.timer = timer;
  }

  @Override
  public String name() {
    return work.name();
  }

  @Override
  public Mono<R> runOnce() {
    return turn(true, () -> closed);
  }

  /** Takes the turn (forced or when due) and does the work if it got it. Cold. */
  private Mono<R> turn(boolean force, BooleanSupplier stopping) {
    return Mono.defer(() -> driver.takeMaintenanceTurn(
            new StoreParams.MaintenanceTurn(work.name(), instance, turnInterval, force, null)))
        .flatMap(turn -> turn.taken() ? work.run(turn.at(), stopping) : Mono.just(work.notTaken(turn.at())));
  }

  @Override
  public Mono<Void> start() {
    return Mono.defer(() -> {
      Loop stoppingLoop;
      synchronized (lock) {
        if (closed || interval.isZero() || (current != null && !current.stopping)) {
          return Mono.<Void>empty();
        }
        stoppingLoop = current;
        if (stoppingLoop == null) {
          launch();
          return Mono.<Void>empty();
        }
      }
      // A loop still finishing its batch: start again once it has ended.
      return stoppingLoop.ended.asMono().then(start());
    });
  }

  /** Starts a loop; called holding {@link #lock} with no loop running. */
  private void launch() {
    Loop loop = new Loop();
    current = loop;
    BooleanSupplier stopping = () -> loop.stopping || closed;
    // The wait the work asked for after its last turn (see MaintenanceWork#nextTurnWithin).
    java.util.concurrent.atomic.AtomicReference<@Nullable Duration> early =
        new java.util.concurrent.atomic.AtomicReference<>();
    loop.subscription.update(Mono.defer(() -> {
          Duration wait = jittered(interval);
          Duration soon = early.getAndSet(null);
          boolean forced = soon != null && soon.compareTo(wait) < 0;
          return Mono.delay(forced ? soon : wait, timer).thenReturn(forced);
        })
        .takeUntilOther(loop.stopSignal.asMono())
        // A turn that has started is not cut by stop(): it stops between batches.
        .flatMap(forced -> turn(forced, stopping)
            .doOnNext(report -> early.set(work.nextTurnWithin(report)))
            .doOnNext(this::logReport)
            .onErrorResume(e -> {
              logFailure(e);
              return Mono.empty();
            }))
        .repeat(() -> !stopping.getAsBoolean())
        .doFinally(signal -> {
          synchronized (lock) {
            if (current == loop) {
              current = null;
            }
          }
          loop.ended.tryEmitEmpty();
        })
        .subscribe(ignored -> { }, e -> log.error("pgqrs maintenance {} stopped: {}", work.name(), e.toString(), e)));
  }

  @Override
  public Mono<Void> stop() {
    return Mono.defer(() -> {
      Loop loop;
      synchronized (lock) {
        loop = current;
      }
      if (loop == null) {
        return Mono.empty();
      }
      loop.stopping = true;
      loop.stopSignal.tryEmitEmpty();
      return loop.ended.asMono().timeout(STOP_GRACE, Mono.fromRunnable(() -> {
        log.warn("pgqrs maintenance {}: a batch still running after {} is cancelled", work.name(), STOP_GRACE);
        loop.subscription.dispose();
      }), timer);
    });
  }

  /**
   * Stops the loop for good: {@link #start()} does nothing afterwards. Cold; completes when no
   * turn of the loop is running.
   *
   * @return completes when stopped
   */
  Mono<Void> shutdown() {
    return Mono.defer(() -> {
      closed = true;
      return stop();
    });
  }

  private static Duration jittered(Duration interval) {
    long nanos = interval.toNanos();
    double jitter = 0.2 * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofNanos(Math.max(1, nanos + (long) (nanos * jitter)));
  }

  private void logReport(R report) {
    String summary = work.summary(report);
    if (summary != null) {
      log.info("pgqrs maintenance {} in schema {}: {}", work.name(), driver.schema(), summary);
    } else {
      log.debug("pgqrs maintenance {} in schema {}: {}", work.name(), driver.schema(), report);
    }
  }

  private void logFailure(Throwable e) {
    if (e instanceof SchemaNotInstalledException) {
      // Connecting before install() is normal; the services work once the schema is there.
      log.debug("pgqrs maintenance {} skipped: {}", work.name(), e.getMessage());
    } else {
      log.warn("pgqrs maintenance {} in schema {} failed; next try in about {}: {}", work.name(), driver.schema(),
          interval, e.toString());
    }
  }
}
