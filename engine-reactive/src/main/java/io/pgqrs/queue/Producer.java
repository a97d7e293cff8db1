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
