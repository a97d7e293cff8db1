package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.Store;
import io.pgqrs.worker.Workers;
import java.time.Duration;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * Consumes one queue as a backpressured stream. Built with {@link Store#consumer(String)};
 * reusable and thread-safe. Every subscription to {@link #deliveries()} or
 * {@link #handle(Function)} is one independent worker: it registers a worker row, heartbeats while
 * subscribed, claims only what its subscriber can take, keeps the leases of what it holds alive,
 * and shuts down gracefully when it ends.
 *
 * <p>An idle subscription wakes as soon as an enqueue commits (PostgreSQL {@code LISTEN/NOTIFY},
 * in-process signals on SQLite and Turso), when the next delayed message or expiring lease comes
 * due, and at the poll interval (with jitter) whatever happens, so a lost notification only delays
 * work. Suspending the worker through {@link Workers#suspend(long)} pauses claiming until resumed.
 * A worker stopped by someone other than the subscriber (an operator's
 * {@link Workers#shutdown(long, boolean)}, or maintenance elsewhere finding it stale after a network
 * partition) is replaced: the subscription registers a new worker, logs it and goes on; with
 * {@link Builder#endWhenWorkerStopped(boolean)} it ends after a graceful shutdown instead.
 *
 * <p>Transient store errors never end a subscription: starting (registering the worker), claiming
 * and settling are retried (see {@link Delivery} for settling); only permanent errors, such as an
 * unknown queue, end it with an error.
 */
public interface Consumer {

  /**
   * The queue consumed.
   *
   * @return the queue name
   */
  String queue();

  /**
   * A stream of deliveries. Cold: each subscription is a new worker. Claims only what has been
   * requested, in batches of at most the batch size, and never holds more unsettled deliveries
   * than the in-flight bound. Leases of unsettled deliveries are extended until they are settled.
   *
   * <p>Errors: {@link QueueNotFoundException} or {@link SchemaNotInstalledException} end the
   * stream; transient store errors are logged and retried at the poll interval. Cancelling the
   * subscription is a graceful shutdown, run in the background: claiming stops, leases of
   * deliveries already emitted stay alive until they are settled or the shutdown timeout passes,
   * the rest are released, and the worker is marked stopped.
   *
   * @return the deliveries
   */
  Flux<Delivery> deliveries();

  /**
   * Runs a handler on every message, at most {@code concurrency} at a time, until the
   * subscription is cancelled. Cold: each subscription is a new worker. Emits one {@link Outcome}
   * per message once the store has recorded it; outcomes are buffered while not requested.
   *
   * <p>The handler's publisher completing (with or without values) acknowledges the message
   * (archive, or delete when so configured). An error releases it after the retry policy's delay
   * (or the delay of a {@link RetryLaterException}), and dead-letters it on its last attempt or
   * when the policy does not retry that error. A handler running past the handler timeout is
   * cancelled and its message released as failed. If the lease is lost while the handler runs,
   * its outcome is discarded and logged, never applied.
   *
   * <p>The subscription holds at most the concurrency plus the {@linkplain Builder#prefetch
   * prefetch} (automatic unless set; within the in-flight bound when one is set): each claim asks for as many messages as
   * that leaves room for, whatever the batch size, so a backlog is taken several messages per
   * statement even with {@code batchSize(1)}, and the prefetched messages keep the handlers busy
   * while the next claim is in flight; only a queue that holds one message is claimed one at a
   * time. While the subscription holds work, a claim for less than half of that room waits a few
   * milliseconds for more to free; an idle subscription claims at once. The settles
   * of every subscription of the store (acks, deletes, releases, dead letters) share statements
   * while one is in flight.
   *
   * <p>Cancelling the subscription is a graceful shutdown, run in the background: claiming stops,
   * handlers in flight may finish within the shutdown timeout, the rest are cancelled and their
   * messages released, and the worker is marked stopped. A store error that ends claiming (for
   * example {@link QueueNotFoundException}) ends the stream with that error after the same
   * shutdown.
   *
   * @param handler the work to do for one message; it may throw
   * @return the outcomes
   */
  Flux<Outcome> handle(Function<? super Message, ? extends Publisher<?>> handler);

  /**
   * Runs a handler like {@link #handle(Function)} until {@code stop} emits or completes, then
   * shuts down gracefully and completes the returned stream once the worker is stopped.
   *
   * @param handler the work to do for one message
   * @param stop the shutdown trigger, for example {@code Mono.delay(...)} or a sink's flux
   * @return the outcomes, completing after the shutdown
   */
  Flux<Outcome> handle(Function<? super Message, ? extends Publisher<?>> handler, Publisher<?> stop);

  /**
   * Runs a handler on every delivery, exactly as {@link #handle(Function)} does, but hands it the
   * {@link Delivery} itself: the handler may extend the lease while it works, or settle the
   * message on its own ({@link Delivery#ack}, {@link Delivery#delete}, {@link Delivery#release},
   * {@link Delivery#deadLetter}). A delivery the handler settled gets the outcome
   * {@link Outcome.Kind#SETTLED_BY_HANDLER}, whatever its publisher does afterwards, and nothing
   * more is applied to it; one it left alone is settled from the publisher's end as under
   * {@code handle}. Cold; cancelling is the same graceful shutdown.
   *
   * @param handler the work to do for one delivery; it may throw
   * @return the outcomes
   */
  Flux<Outcome> handleDeliveries(Function<? super Delivery, ? extends Publisher<?>> handler);

  /**
   * Runs a delivery handler like {@link #handleDeliveries(Function)} until {@code stop} emits or
   * completes, then shuts down gracefully and completes the returned stream once the worker is
   * stopped.
   *
   * @param handler the work to do for one delivery
   * @param stop the shutdown trigger
   * @return the outcomes, completing after the shutdown
   */
  Flux<Outcome> handleDeliveries(Function<? super Delivery, ? extends Publisher<?>> handler, Publisher<?> stop);

  /** Configures a {@link Consumer}. Not thread-safe; {@link #build()} returns an immutable consumer. */
  interface Builder {

    /**
     * The most messages one claim of {@link Consumer#deliveries()} asks for (its subscriber's
     * demand may be unbounded). Default 10. {@link Consumer#handle(Function)} is not capped by it:
     * its claims follow its free handler places (see there). In both, it sets the default
     * in-flight bound.
     *
     * @param batchSize 1 to 1000
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    Builder batchSize(int batchSize);

    /**
     * The most messages a subscription holds claimed but not settled. Default: for
     * {@link #deliveries()}, twice the batch size; for {@link #handle(Function)}, the concurrency
     * plus the prefetch. When set, it bounds both.
     *
     * @param maxInFlight 1 to 10,000
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    Builder maxInFlight(int maxInFlight);

    /**
     * How many handlers run at once in {@link #handle(Function)}. Default 8.
     *
     * @param concurrency 1 to 10,000
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    Builder concurrency(int concurrency);

    /**
     * How many messages a {@link #handle(Function)} subscription claims ahead of its running
     * handlers. They wait in the subscription, leased and kept alive, for a free handler, so the
     * handlers are not idle while the next claim is in flight, and claims are larger. At shutdown
     * the ones not started are released at once, and a crash leaves them to their lease's expiry,
     * like any held message. Default: automatic, following the handlers' pace. It starts at the
     * concurrency (a subscription leases twice as many messages as it runs) and, while handlers
     * finish much faster than a claim's round trip, grows to what keeps every handler busy through
     * two round trips, at most the larger of 32 and four times the concurrency (within the
     * in-flight bound when one is set); when handlers slow down it comes back to the concurrency.
     * A value set here is fixed. Set {@code 0} when handlers run long and several instances share
     * the queue, so that no instance holds messages another one could start now. Not used by
     * {@link #deliveries()}, whose demand decides.
     *
     * @param prefetch 0 to 10,000
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    Builder prefetch(int prefetch);

    /**
     * The lease of each claim; it is extended while the message is held. Default: the
     * configuration's lease duration.
     *
     * @param lease above zero
     * @return this builder
     * @throws InvalidArgumentException if not above zero
     */
    Builder lease(Duration lease);

    /**
     * How often an idle subscription claims even without a wake-up. Default: the configuration's
     * poll interval.
     *
     * @param pollInterval above zero
     * @return this builder
     * @throws InvalidArgumentException if not above zero
     */
    Builder pollInterval(Duration pollInterval);

    /**
     * Whether to wake on notifications; false polls only (for PgBouncer in transaction mode,
     * where LISTEN does not work). Default: the configuration's setting.
     *
     * @param wakeups false for poll-only
     * @return this builder
     */
    Builder wakeups(boolean wakeups);

    /**
     * How often the worker heartbeats and learns whether it was suspended. Default: the
     * configuration's heartbeat interval.
     *
     * @param heartbeatInterval above zero
     * @return this builder
     * @throws InvalidArgumentException if not above zero
     */
    Builder heartbeatInterval(Duration heartbeatInterval);

    /**
     * The worker name prefix; each subscription appends a unique suffix. Default: the queue name
     * and host.
     *
     * @param name 1 to 150 characters
     * @return this builder
     * @throws InvalidArgumentException if empty or too long
     */
    Builder workerName(String name);

    /**
     * How long one handler may run before it is cancelled and its message released as failed.
     * Default 5 minutes.
     *
     * @param timeout above zero
     * @return this builder
     * @throws InvalidArgumentException if not above zero
     */
    Builder handlerTimeout(Duration timeout);

    /**
     * How failed messages are retried. Default {@link RetryPolicy#defaults()}.
     *
     * @param policy the policy
     * @return this builder
     */
    Builder retryPolicy(RetryPolicy policy);

    /**
     * Delete messages whose handler succeeded instead of archiving them. Default false.
     *
     * @param delete true to delete
     * @return this builder
     */
    Builder deleteOnSuccess(boolean delete);

    /**
     * How long a shutdown waits for handlers (or unsettled deliveries) before releasing their
     * messages. Default 30 seconds.
     *
     * @param timeout zero or more
     * @return this builder
     * @throws InvalidArgumentException if negative
     */
    Builder shutdownTimeout(Duration timeout);

    /**
     * Whether a subscription ends when its worker is stopped from outside (an operator, or
     * maintenance finding it stale), instead of going on as a new worker. Default false: a
     * consumer keeps consuming until its own subscriber stops it; to pause consumers from
     * outside, suspend their workers.
     *
     * @param end true to end the subscription after a graceful shutdown
     * @return this builder
     */
    Builder endWhenWorkerStopped(boolean end);

    /**
     * Builds the consumer. Checks nothing in the store: a missing queue is reported by the first
     * subscription.
     *
     * @return the consumer
     */
    Consumer build();
  }
}
