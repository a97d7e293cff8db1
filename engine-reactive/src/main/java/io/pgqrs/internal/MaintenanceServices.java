package io.pgqrs.internal;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.admin.ArchiveCleanerReport;
import io.pgqrs.admin.LeaseRescuerReport;
import io.pgqrs.admin.Maintenance;
import io.pgqrs.admin.MaintenanceService;
import io.pgqrs.admin.RetentionCleanerReport;
import io.pgqrs.admin.RunReaperReport;
import io.pgqrs.admin.SchedulerReport;
import io.pgqrs.admin.SweepReport;
import io.pgqrs.spi.StoreDriver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The maintenance services of one engine instance, configured from {@link PgqrsConfig}: every
 * service takes a turn about every {@link PgqrsConfig#maintenanceInterval()} and works in batches
 * of {@link PgqrsConfig#maintenanceBatchSize()} rows.
 */
final class MaintenanceServices implements Maintenance {

  private final ScheduledMaintenanceService<LeaseRescuerReport> leaseRescuer;
  private final ScheduledMaintenanceService<RunReaperReport> runReaper;
  private final ScheduledMaintenanceService<ArchiveCleanerReport> archiveCleaner;
  private final ScheduledMaintenanceService<RetentionCleanerReport> retentionCleaner;
  private final ScheduledMaintenanceService<SchedulerReport> scheduler;
  private final ScheduleFirer firer;
  private final List<ScheduledMaintenanceService<?>> all;

  /**
   * Creates the services; nothing runs before {@link #startAll()}.
   *
   * @param driver the store
   * @param config the interval, batch size, stale threshold and retentions
   * @param hostname this host, for the instance name recorded with the turns
   * @param timer the scheduler of the waits between turns
   */
  MaintenanceServices(StoreDriver driver, PgqrsConfig config, String hostname, Scheduler timer) {
    // Host, process and a random tag telling engines of one process apart. Not a UUID: that reads
    // SecureRandom, which may block, and engines are made on non-blocking threads.
    String instance = hostname + ":" + ProcessHandle.current().pid() + ":"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt());
    Duration interval = config.maintenanceInterval();
    // With background turns off here, runOnce still moves the shared schedule on: by the default
    // interval, so other instances running the schedule go on at the usual pace.
    Duration turnInterval = interval.isZero() ? PgqrsConfig.DEFAULT_MAINTENANCE_INTERVAL : interval;
    int batch = config.maintenanceBatchSize();
    leaseRescuer = new ScheduledMaintenanceService<>(new LeaseRescuer(driver, config.workerStaleAfter(), batch),
        driver, instance, interval, turnInterval, timer);
    runReaper = new ScheduledMaintenanceService<>(new RunReaper(driver, batch),
        driver, instance, interval, turnInterval, timer);
    archiveCleaner = new ScheduledMaintenanceService<>(new ArchiveCleaner(driver, config.archiveRetention(), batch),
        driver, instance, interval, turnInterval, timer);
    retentionCleaner = new ScheduledMaintenanceService<>(new RetentionCleaner(driver, config.deadLetterRetention(),
            config.finishedRunRetention(), config.stoppedWorkerRetention(), batch),
        driver, instance, interval, turnInterval, timer);
    firer = new ScheduleFirer(driver, batch);
    scheduler = new ScheduledMaintenanceService<>(firer, driver, instance, interval, turnInterval, timer);
    all = List.of(leaseRescuer, runReaper, archiveCleaner, retentionCleaner, scheduler);
  }

  /** Starts every service's background loop (none when the interval is zero). */
  void startAll() {
    Flux.fromIterable(all).flatMap(ScheduledMaintenanceService::start).subscribe();
  }

  /**
   * Stops every service for good. Cold; completes when no background turn of any is running.
   *
   * @return completes when stopped
   */
  Mono<Void> shutdown() {
    return Flux.fromIterable(all).flatMap(ScheduledMaintenanceService::shutdown).then();
  }

  /**
   * Fires the schedules due at a given clock, without a turn: for tests that move the store's clock.
   *
   * @param now the clock
   * @return the report
   */
  Mono<SchedulerReport> fireSchedules(java.time.Instant now) {
    return firer.fire(now, now, () -> false);
  }

  @Override
  public Mono<SweepReport> runOnce() {
    return scheduler.runOnce().then(leaseRescuer.runOnce()).flatMap(rescued -> runReaper.runOnce().flatMap(reaped -> archiveCleaner.runOnce()
        .flatMap(archived -> retentionCleaner.runOnce().map(retained -> new SweepReport(
            rescued.ran() || reaped.ran() || archived.ran() || retained.ran(),
            rescued.workersStopped(), rescued.messagesReleased(), archived.archivedPurged(), reaped.runsFailed(),
            retained.deadLettersPurged(), retained.runsPurged(), retained.stepsPurged(), retained.signalsPurged(),
            retained.workersPurged(), rescued.at())))));
  }

  @Override
  public MaintenanceService<LeaseRescuerReport> leaseRescuer() {
    return leaseRescuer;
  }

  @Override
  public MaintenanceService<RunReaperReport> runReaper() {
    return runReaper;
  }

  @Override
  public MaintenanceService<ArchiveCleanerReport> archiveCleaner() {
    return archiveCleaner;
  }

  @Override
  public MaintenanceService<RetentionCleanerReport> retentionCleaner() {
    return retentionCleaner;
  }

  @Override
  public MaintenanceService<SchedulerReport> scheduler() {
    return scheduler;
  }
}
