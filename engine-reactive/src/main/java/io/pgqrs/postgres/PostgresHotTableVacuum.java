package io.pgqrs.postgres;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Vacuums {@code pgqrs_messages} as fast as its rows churn: after every {@link #EVERY} messages
 * the engine claimed (or leased with their trigger), one {@code VACUUM (SKIP_LOCKED)} of the table
 * in the background, never two at once from one engine.
 *
 * <p>Why the engine does it and not only autovacuum: every claim and every settle leaves a dead row
 * version, and its index entries stay at the head of the claim order and of the visible index,
 * where every claim walks them again until a vacuum removes them. Autovacuum visits a database once
 * a minute ({@code autovacuum_naptime}) and by default vacuums a table only after a fifth of it
 * changed, so at thousands of messages a second the walk grows to hundreds of thousands of entries:
 * measured on two cores, a 200,000-message {@code handle()} drain with 16 subscriptions ran at
 * about 4,000 msg/s, and at 7,600 with a VACUUM every five seconds beside it (8,600 for a
 * 20,000-message drain, whose head never grows long). The hot table holds live and dead messages
 * only (archived ones move out), so a vacuum of it is short. With {@code SKIP_LOCKED} a vacuum
 * that finds the table being vacuumed (another engine's, autovacuum) does nothing. A role that does
 * not own the table gets a warning from the server and no vacuum, which changes nothing else.
 */
final class PostgresHotTableVacuum {

  private static final Logger log = LoggerFactory.getLogger(PostgresHotTableVacuum.class);

  /** Messages claimed between two vacuums of one engine. */
  static final long EVERY = 10_000;

  private final long every;
  private final Supplier<Mono<Void>> vacuum;
  private final AtomicLong churned = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile @Nullable Disposable inFlight;

  /**
   * @param every messages claimed between two vacuums
   * @param vacuum the vacuum statement on a connection of its own; cold
   */
  PostgresHotTableVacuum(long every, Supplier<Mono<Void>> vacuum) {
    this.every = every;
    this.vacuum = vacuum;
  }

  /**
   * Counts messages this engine claimed; the one that reaches the threshold starts a vacuum unless
   * one is running or the driver is closed. Never blocks: the vacuum runs in the background, and
   * its failure (a statement timeout, a lost connection) is logged and tried again at the next
   * threshold.
   *
   * @param messages how many a statement claimed
   */
  void claimed(int messages) {
    if (messages <= 0 || churned.addAndGet(messages) < every || closed.get() || !running.compareAndSet(false, true)) {
      return;
    }
    churned.set(0);
    inFlight = vacuum.get()
        .doFinally(signal -> running.set(false))
        .subscribe(done -> {}, error -> log.warn("pgqrs could not vacuum its messages table, trying again after {} "
            + "more claimed messages: {}", every, error.toString()));
    if (closed.get()) {
      stop();
    }
  }

  /** Stops for good: no vacuum starts from now on, and one in flight is cancelled. Idempotent. */
  void close() {
    closed.set(true);
    stop();
  }

  private void stop() {
    Disposable running = inFlight;
    if (running != null) {
      running.dispose();
    }
  }
}
