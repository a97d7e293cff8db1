package io.pgqrs.queue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Enqueues messages to one queue, applying the producer's validation rules and rate limit before
 * anything reaches the store. Thread-safe and reusable. Every method is cold; a message is durable
 * once the returned {@code Mono} completes. Cancelling before completion may or may not leave the
 * message committed (use a dedup key where that matters).
 */
public interface Producer {

  /**
   * The queue this producer writes to.
   *
   * @return the queue name
   */
  String queue();

  /**
   * Enqueues one payload, visible at once.
   *
   * @param payload a {@code JsonNode} object or a value Jackson serializes to a JSON object
   * @return the message id
   */
  Mono<Long> enqueue(Object payload);

  /**
   * Enqueues one message with its options.
   *
   * @param message the message
   * @return the message id, or the id of the live message with the same dedup key
   */
  Mono<Long> enqueue(NewMessage message);

  /**
   * Enqueues one payload that becomes claimable after a delay.
   *
   * @param payload the payload
   * @param delay a non-negative delay
   * @return the message id
   */
  Mono<Long> enqueueDelayed(Object payload, Duration delay);

  /**
   * Enqueues one payload that becomes claimable at an instant.
   *
   * @param payload the payload
   * @param at the instant (in the past means now)
   * @return the message id
   */
  Mono<Long> enqueueAt(Object payload, Instant at);

  /**
   * Enqueues a batch in one statement: all messages commit or none do. A payload that breaks a
   * validation rule, or a rate limit without permits for the whole batch, rejects the batch.
   *
   * @param messages 1 or more messages
   * @return the ids, in the order of the input; {@link RateLimitedException} when the rate limit
   *     has too few permits now, {@link io.pgqrs.InvalidArgumentException} (permanent) when the
   *     batch is larger than the rate limit's burst
   */
  Mono<List<Long>> enqueueBatch(List<NewMessage> messages);

  /**
   * Enqueues a batch of payloads visible at once, like {@link #enqueueBatch(List)}.
   *
   * @param payloads 1 or more payloads
   * @return the ids, in the order of the input
   */
  Mono<List<Long>> enqueuePayloads(List<?> payloads);

  /**
   * A view of this producer whose enqueues run on the caller's connection, inside the caller's own
   * transaction (PostgreSQL only): the messages commit together with the caller's writes, or not at
   * all. The caller owns the connection and the transaction: it begins it before subscribing (with
   * {@code connection.beginTransaction()}, or a {@code TransactionalOperator}) and commits, rolls
   * back and closes it; the view never does any of these. Consumers are woken when the caller
   * commits (PostgreSQL delivers the enqueue's NOTIFY then), never before. Validation, the rate
   * limit (shared with this producer; permits are spent even if the caller rolls back) and dedup
   * keys behave as on this producer; a failed enqueue aborts the caller's transaction, which must
   * then be rolled back. The connection must reach the store's database; the engine's statements
   * name the store's schema, so its search path does not matter.
   *
   * <p>Does not touch the store, and may be called before the transaction begins. Every enqueue of
   * the view fails, when subscribed, with {@link io.pgqrs.ConfigurationException} on a backend
   * without {@link io.pgqrs.Capabilities#transactionalEnqueue()} (SQLite, Turso), and with
   * {@link io.pgqrs.InvalidArgumentException} naming {@code connection} when the connection is in
   * autocommit mode. Cancelling an enqueue leaves the caller's transaction to the caller.
   *
   * @param connection the caller's R2DBC connection, in a transaction
   * @return the bound view; {@link #inTransaction} on it binds to another connection
   * @throws io.pgqrs.InvalidArgumentException naming {@code connection} when it is null
   */
  Producer inTransaction(io.r2dbc.spi.Connection connection);

  /** Builds producers. Not thread-safe; the producers it builds are. */
  interface Builder {

    /**
     * Sets the validation rules; {@link ValidationRules#defaults()} unless set.
     *
     * @param rules the rules
     * @return this builder
     */
    Builder validation(ValidationRules rules);

    /**
     * Sets a rate limit; none unless set.
     *
     * @param limit the limit, or null to disable
     * @return this builder
     */
    Builder rateLimit(@Nullable RateLimit limit);

    /**
     * Builds the producer. Does not touch the store.
     *
     * @return the producer
     */
    Producer build();
  }
}
