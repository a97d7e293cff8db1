package io.pgqrs.admin;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreUnavailableException;
import reactor.core.publisher.Mono;

/**
 * One background maintenance service of a store: a loop that, about every
 * {@link PgqrsConfig#maintenanceInterval()} (give or take 20 % of jitter), takes the service's turn
 * and then does its work as a series of short batches, each of at most
 * {@link PgqrsConfig#maintenanceBatchSize()} rows in its own transaction, until a batch comes back
 * short or the service is stopped.
 *
 * <p>A turn is shared by every instance on the schema: taking it moves the service's next due time
 * one interval ahead, so work done by one instance is not repeated by the others before the
 * interval has passed. Every batch is safe with other instances' batches running at the same time:
 * a row is processed, and counted, by exactly one of them. A failed turn is logged and the loop
 * goes on.
 *
 * <p>Every store starts its services when it connects (unless the interval is zero) and stops them
 * in {@link io.pgqrs.Store#close()}; {@link #start()} and {@link #stop()} let an application turn one
 * service off and on again.
 *
 * @param <R> the report of one turn
 */
public interface MaintenanceService<R extends MaintenanceReport> {

  /**
   * The service's name, also the key of its schedule in the store: {@code lease-rescuer},
   * {@code run-reaper}, {@code archive-cleaner}, {@code retention-cleaner} or {@code scheduler}.
   *
   * @return the name
   */
  String name();

  /**
   * Starts the background loop; its first turn comes after one (jittered) interval. Cold and
   * idempotent: starting a running service does nothing, starting one that is still stopping
   * starts it again once it has stopped. Does nothing when the interval is zero or the store is
   * closed or closing. Never fails.
   *
   * @return completes when the loop is running (or nothing was to be done)
   */
  Mono<Void> start();

  /**
   * Stops the background loop. Cold and idempotent. The wait for the next turn ends at once; a turn
   * in progress stops after the batch it is running, which is given up to ten seconds and then
   * cancelled (a batch is atomic: done entirely or not at all). Nothing of this service's loop
   * runs once the returned {@code Mono} has completed; {@link #runOnce()} still works. Never fails.
   *
   * @return completes when the loop has ended
   */
  Mono<Void> stop();

  /**
   * Takes the service's turn now, even if it is not due yet, and does its work. Cold: each
   * subscription runs again. Independent of the background loop, which it neither starts nor
   * stops. If another instance is taking the turn at that very moment, nothing is done and the
   * report says {@link MaintenanceReport#ran()} is false. Errors: {@link StoreUnavailableException}
   * when the store is closed or unreachable, {@link SchemaNotInstalledException} before
   * {@code install()}. Cancelling stops the work; each batch is atomic, so the batches before
   * stay done and the one in progress is done entirely or not at all.
   *
   * @return what the turn did
   */
  Mono<R> runOnce();
}
