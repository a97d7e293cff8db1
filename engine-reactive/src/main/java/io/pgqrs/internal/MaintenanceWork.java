package io.pgqrs.internal;

import io.pgqrs.admin.MaintenanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What one maintenance service does once it holds a turn: the business rules of the service, on
 * the store's batch operations. {@link ScheduledMaintenanceService} takes the turns and runs this.
 *
 * @param <R> the report of one turn
 */
interface MaintenanceWork<R extends MaintenanceReport> {

  /** The most batches of one kind one turn runs, so a turn ends even while rows come as fast as they go. */
  int MAX_BATCHES_PER_TURN = 1_000;

  /** How long one batch may take before it is cancelled (and, being atomic, not done). */
  Duration BATCH_TIMEOUT = Duration.ofMinutes(1);

  /**
   * The service's name, the key of its schedule in the store.
   *
   * @return the name
   */
  String name();

  /**
   * The work of a turn taken at {@code at}. Cold.
   *
   * @param at the store's clock when the turn was taken
   * @param stopping true once the service is stopping: no batch starts after that
   * @return the report, counting every batch that ran
   */
  Mono<R> run(Instant at, BooleanSupplier stopping);

  /**
   * The report of a turn that was not taken.
   *
   * @param at the store's clock when the turn was looked at
   * @return a report with {@code ran == false} and zero counts
   */
  R notTaken(Instant at);

  /**
   * What a turn changed, in words, for the log.
   *
   * @param report the report
   * @return one line, or null when the turn changed nothing
   */
  @Nullable String summary(R report);

  /**
   * How soon after this turn the service wants its next one, if sooner than its interval: the
   * background loop then takes that turn early and forced (the shared schedule would say it is not
   * due). The default is none: every turn comes one (jittered) interval after the last.
   *
   * @param report the report of the turn just taken
   * @return the wait, or null for the interval
   */
  default @Nullable Duration nextTurnWithin(R report) {
    return null;
  }

  /**
   * Runs batches one after the other until one comes back short (fewer rows than {@code limit}),
   * the service is stopping, or {@link #MAX_BATCHES_PER_TURN} have run. Each batch is one short
   * atomic operation of the store, given {@link #BATCH_TIMEOUT}. Cold; cancelling cancels the
   * batch in progress and runs no more.
   *
   * @param batch one batch
   * @param rows how many rows a batch's result counts against the limit
   * @param limit the batch limit the batches were given
   * @param stopping checked before every batch
   * @param <B> a batch's result
   * @return every batch's result, in order
   */
  static <B> Flux<B> batches(Supplier<Mono<B>> batch, ToLongFunction<B> rows, int limit, BooleanSupplier stopping) {
    return Flux.defer(() -> {
      if (stopping.getAsBoolean()) {
        return Flux.empty();
      }
      AtomicInteger ran = new AtomicInteger(1);
      Mono<B> one = Mono.defer(batch).timeout(BATCH_TIMEOUT);
      return one.expand(result -> rows.applyAsLong(result) < limit || stopping.getAsBoolean()
          || ran.getAndIncrement() >= MAX_BATCHES_PER_TURN ? Mono.empty() : one);
    });
  }

  /**
   * The rows and batches of a run of {@link #batches} whose results are row counts.
   *
   * @param rows the rows the batches touched
   * @param batches how many batches ran
   */
  record Count(long rows, int batches) {

    /**
     * Runs {@link #batches} of a row-counting batch and adds them up. Cold.
     *
     * @param batch one batch, returning the rows it touched
     * @param limit the batch limit
     * @param stopping checked before every batch
     * @return the totals
     */
    static Mono<Count> of(Supplier<Mono<Long>> batch, int limit, BooleanSupplier stopping) {
      return MaintenanceWork.batches(batch, n -> n, limit, stopping)
          .reduce(new Count(0, 0), (total, n) -> new Count(total.rows() + n, total.batches() + 1));
    }
  }
}
