package io.pgqrs;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown (or signalled) by a handler to ask for its message to be delivered again after a given
 * delay, instead of the retry policy's delay: for example when a downstream service answered
 * "429, retry after 30 s". The delivery still counts as an attempt, so the message is
 * dead-lettered if this was its last one.
 */
public class RetryLaterException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final Duration delay;

  /**
   * Creates the signal.
   *
   * @param delay how long the message should stay invisible, zero or more
   * @param reason recorded as the message's last error
   * @throws InvalidArgumentException if the delay is negative
   */
  public RetryLaterException(Duration delay, String reason) {
    super(reason);
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new InvalidArgumentException("delay", "delay must not be negative, got " + delay);
    }
    this.delay = delay;
  }

  /**
   * The requested delay.
   *
   * @return the delay before the next delivery
   */
  public Duration delay() {
    return delay;
  }
}
