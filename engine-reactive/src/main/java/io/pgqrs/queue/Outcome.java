package io.pgqrs.queue;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a consumer's handler runtime did with one message, emitted by
 * {@link Consumer#handle(java.util.function.Function)} once the store has recorded it.
 *
 * @param messageId the message
 * @param kind what happened
 * @param attempts the message's deliveries so far, this one included
 * @param retryIn for {@link Kind#RETRY_SCHEDULED}: when the message becomes claimable again
 * @param error the handler's error as recorded in the store, if it failed
 * @param enqueuedAt when the message was enqueued, by the store's clock: with the time the outcome
 *     arrives, the message's end-to-end latency, without a side map from ids
 */
public record Outcome(long messageId, Kind kind, int attempts, @Nullable Duration retryIn, @Nullable String error,
    Instant enqueuedAt) {

  /**
   * Validates the components.
   *
   * @throws NullPointerException if {@code kind} or {@code enqueuedAt} is null
   */
  public Outcome {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(enqueuedAt, "enqueuedAt");
  }

  /** What happened to a message. */
  public enum Kind {
    /** The handler succeeded and the message was archived. */
    ARCHIVED,
    /** The handler succeeded and the message was deleted. */
    DELETED,
    /** The handler failed (or timed out) and the message was released for a later attempt. */
    RETRY_SCHEDULED,
    /** The handler failed on the last attempt, or with an error the policy does not retry. */
    DEAD_LETTERED,
    /**
     * The lease was lost before the outcome could be recorded (it expired, or maintenance gave the
     * message to another consumer): the handler's result was discarded, and the message will be
     * or has been delivered again.
     */
    LEASE_LOST,
    /** The consumer shut down before the handler finished: the message was released untouched. */
    RELEASED_ON_SHUTDOWN,
    /**
     * The store could not record the outcome (it stayed unavailable while the lease lasted, or
     * refused the settle): the consumer let the message go, and it will be delivered again once
     * its lease expires.
     */
    NOT_RECORDED,
    /**
     * The handler settled the delivery itself ({@link Consumer#handleDeliveries}; workflow workers
     * finish or park runs this way).
     */
    SETTLED_BY_HANDLER
  }
}
