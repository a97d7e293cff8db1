package io.pgqrs.admin;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreUnavailableException;
import reactor.core.publisher.Mono;

/**
 * Background maintenance of a store, as five small {@link MaintenanceService services}, each with
 * its own schedule, batch limit and short transactions:
 *
 * <ul>
 *   <li>{@link #leaseRescuer()} stops workers which stopped heartbeating and hands their leased
 *       messages back at once;
 *   <li>{@link #runReaper()} ends workflow runs no worker will finish (past their deadline, or
 *       whose trigger message was dead-lettered);
 *   <li>{@link #archiveCleaner()} purges archived messages older than the archive retention;
 *   <li>{@link #retentionCleaner()} purges dead letters, finished runs (with their steps and
 *       signals) and stopped workers older than their retentions;
 *   <li>{@link #scheduler()} fires the due ticks of cron schedules ({@link io.pgqrs.schedule}).
 * </ul>
 *
 * <p>Every connected store runs each service about every {@link PgqrsConfig#maintenanceInterval()}
 * (with jitter) on its own; set the interval to zero to turn that off and call {@link #runOnce()}
 * from a scheduler of your own. The services are safe with many instances sharing a schema: an
 * instance takes a service's turn in one short statement, which moves the service's next due time
 * on, so work done by one instance is not repeated by the others before the interval has passed;
 * and every batch processes and counts each row exactly once, whatever runs at the same time.
 */
public interface Maintenance {

  /**
   * Runs every service once now, one after the other, even if they are not due yet, and adds their
   * reports up (the scheduler runs first; what it fired is in its own report, not in the sweep's). Cold: each subscription runs them again. A service whose turn another instance is
   * taking at that very moment does nothing. Errors: {@link StoreUnavailableException} when the
   * store is closed or unreachable, {@link SchemaNotInstalledException} before {@code install()};
   * the services after the failing one do not run. Cancelling stops the work; each batch is atomic.
   *
   * @return what the services did
   */
  Mono<SweepReport> runOnce();

  /**
   * The lease rescuer: stops ready or suspended workers whose heartbeat is older than
   * {@link PgqrsConfig#workerStaleAfter()} and releases their unexpired leases (claimable at once,
   * attempts kept, the reason in {@code last_error}), waking the queues' consumers.
   *
   * @return the service
   */
  MaintenanceService<LeaseRescuerReport> leaseRescuer();

  /**
   * The run reaper: ends runs past their deadline that no worker holds, and runs whose trigger
   * message was dead-lettered.
   *
   * @return the service
   */
  MaintenanceService<RunReaperReport> runReaper();

  /**
   * The archive cleaner: purges archived messages older than {@link PgqrsConfig#archiveRetention()}.
   *
   * @return the service
   */
  MaintenanceService<ArchiveCleanerReport> archiveCleaner();

  /**
   * The retention cleaner: purges dead letters older than {@link PgqrsConfig#deadLetterRetention()},
   * runs finished longer ago than {@link PgqrsConfig#finishedRunRetention()} with their steps and
   * signals, and stopped workers holding no lease stopped longer ago than
   * {@link PgqrsConfig#stoppedWorkerRetention()}. Runs that have not finished are never purged.
   *
   * @return the service
   */
  MaintenanceService<RetentionCleanerReport> retentionCleaner();

  /**
   * The scheduler: fires the due ticks of cron schedules by the store's clock, exactly one run or
   * message per tick across every instance (see {@link io.pgqrs.schedule.Schedules}). Besides its
   * turns every interval, the background loop wakes when the earliest next tick of a schedule comes
   * (if sooner), and takes its turn then.
   *
   * @return the service
   */
  MaintenanceService<SchedulerReport> scheduler();
}
