package io.pgqrs.internal;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.admin.SweepReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The background maintenance of one engine instance: a sweep about every
 * {@link PgqrsConfig#maintenanceInterval()} (±20 % jitter, so instances started together drift
 * apart) on a Reactor timer. One loop, so sweeps never overlap within an instance; the sweep row
 * keeps instances from overlapping each other. A failed sweep is logged and the loop goes on.
 *
 * <p>{@link #start()} and {@link #stop()} are idempotent. Stopping ends the wait for the next
 * sweep at once and lets a sweep in progress finish, for at most {@link #STOP_GRACE}; after that it
 * is cancelled, which rolls it back. Nothing runs once {@link #stop()} has completed.
 */
final class MaintenanceRunner {

  private static final Logger log = LoggerFactory.getLogger(MaintenanceRunner.class);

  /** The most archived messages one sweep purges, so one sweep stays a short transaction. */
  static final int PURGE_LIMIT = 10_000;
  /** How long a background sweep may take before it is cancelled (and rolled back). */
  static final Duration SWEEP_TIMEOUT = Duration.ofMinutes(1);
  /** How long {@link #stop()} waits for a sweep in progress before cancelling it. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final StoreDriver driver;
  private final PgqrsConfig config;
  private final String instance;
  private final Scheduler timer;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  /** Ends the wait for the next sweep. */
  private final Sinks.Empty<Void> stopSignal = Sinks.empty();
  /** Completes when the loop has ended, with no sweep in progress. */
  private final Sinks.Empty<Void> ended = Sinks.empty();
  private volatile @Nullable Disposable loop;

  /**
   * Creates a runner; nothing runs before {@link #start()}.
   *
   * @param driver the store
   * @param config the interval, stale threshold and retention
   * @param hostname this host, for the instance name recorded on the sweep row
   * @param timer the scheduler of the wait between sweeps and of the sweep and stop timeouts
   */
  MaintenanceRunner(StoreDriver driver, PgqrsConfig config, String hostname, Scheduler timer) {
    this.driver = driver;
    this.config = config;
    // Host, process and a random tag telling engines of one process apart. Not a UUID: that reads
    // SecureRandom, which may block, and engines are made on non-blocking threads.
    this.instance = hostname + ":" + ProcessHandle.current().pid() + ":"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt());
    this.timer = timer;
  }

  /**
   * One sweep with this instance's settings. Cold; cancelling rolls it back.
   *
   * @param force sweep even if the schedule says it is not due
   * @return what it did
   */
  Mono<SweepReport> sweep(boolean force) {
    // With background sweeps off here, runOnce still moves the shared schedule on: by the default
    // interval, so other instances running the schedule go on sweeping at the usual pace.
    Duration interval = config.maintenanceInterval().isZero()
        ? PgqrsConfig.DEFAULT_MAINTENANCE_INTERVAL : config.maintenanceInterval();
    return driver.sweep(new StoreParams.Sweep(instance, interval, config.workerStaleAfter(),
            config.archiveRetention(), PURGE_LIMIT, force, null))
        .map(s -> new SweepReport(s.ran(), s.workersReclaimed(), s.messagesReleased(), s.archivedPurged(), s.runsFailed(), s.at()));
  }

  /**
   * Starts the loop if the interval is above zero; the first sweep comes after one (jittered)
   * interval. Idempotent; does nothing after {@link #stop()}.
   */
  void start() {
    Duration interval = config.maintenanceInterval();
    if (interval.isZero() || stopping.get() || !started.compareAndSet(false, true)) {
      return;
    }
    loop = Mono.defer(() -> Mono.delay(jittered(interval), timer))
        .takeUntilOther(stopSignal.asMono())
        // A sweep that has started is not cut by stop(): only the wait before it is.
        .flatMap(tick -> sweep(false)
            .timeout(SWEEP_TIMEOUT, timer)
            .doOnNext(this::logReport)
            .onErrorResume(e -> {
              logFailure(e, interval);
              return Mono.empty();
            }))
        .repeat(() -> !stopping.get())
        .doFinally(signal -> ended.tryEmitEmpty())
        .subscribe(ignored -> { }, e -> log.error("pgqrs maintenance stopped: {}", e.toString(), e));
  }

  /**
   * Stops the loop. Cold; idempotent. Completes once no sweep of this runner is in progress: at
   * once when it is waiting, after the sweep in progress otherwise, or after {@link #STOP_GRACE}
   * by cancelling (rolling back) that sweep.
   *
   * @return completes when stopped
   */
  Mono<Void> stop() {
    return Mono.defer(() -> {
      stopping.set(true);
      stopSignal.tryEmitEmpty();
      Disposable running = loop;
      if (running == null) {
        return Mono.empty();
      }
      return ended.asMono().timeout(STOP_GRACE, Mono.fromRunnable(() -> {
        log.warn("pgqrs maintenance: a sweep still running after {} is cancelled and rolled back", STOP_GRACE);
        running.dispose();
      }), timer);
    });
  }

  private static Duration jittered(Duration interval) {
    long nanos = interval.toNanos();
    double jitter = 0.2 * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofNanos(Math.max(1, nanos + (long) (nanos * jitter)));
  }

  private void logReport(SweepReport report) {
    if (report.workersReclaimed() > 0 || report.archivedPurged() > 0) {
      log.info("pgqrs maintenance in schema {}: stopped {} stale worker(s), released {} of their message(s), "
              + "purged {} archived message(s)", driver.schema(), report.workersReclaimed(), report.messagesReleased(),
          report.archivedPurged());
    } else {
      log.debug("pgqrs maintenance in schema {}: {}", driver.schema(), report);
    }
  }

  private void logFailure(Throwable e, Duration interval) {
    if (e instanceof SchemaNotInstalledException) {
      // Connecting before install() is normal; the sweep works once the schema is there.
      log.debug("pgqrs maintenance skipped: {}", e.getMessage());
    } else {
      log.warn("pgqrs maintenance sweep in schema {} failed; next try in about {}: {}", driver.schema(), interval,
          e.toString());
    }
  }
}
