package io.pgqrs.queue;

import io.pgqrs.PgqrsTransientException;
import java.time.Duration;

/**
 * An enqueue was refused by the producer's rate limit. Nothing was inserted; retry after
 * {@link #retryAfter()}.
 */
public class RateLimitedException extends PgqrsTransientException {

  private static final long serialVersionUID = 1L;

  private final String queue;
  private final Duration retryAfter;

  /**
   * Creates the exception.
   *
   * @param queue the queue the producer writes to
   * @param retryAfter how long until enough permits are available again
   * @param message the message
   */
  public RateLimitedException(String queue, Duration retryAfter, String message) {
    super(message, null);
    this.queue = queue;
    this.retryAfter = retryAfter;
  }

  /**
   * The queue the producer writes to.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }

  /**
   * How long until enough permits are available again.
   *
   * @return the retryAfter
   */
  public Duration retryAfter() {
    return retryAfter;
  }
}
