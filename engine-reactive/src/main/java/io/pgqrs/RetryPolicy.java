package io.pgqrs;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * How a consumer's handler runtime spaces out retries of a failed message, and which errors are
 * worth retrying at all. Immutable; the {@code with…} methods return copies.
 *
 * <p>The delay is expressed as visibility: a failed message is released to become claimable again
 * after the delay, never redelivered early. Every delivery counts towards the queue's max attempts;
 * the handler's failure on the last attempt dead-letters the message with the error recorded.
 */
public final class RetryPolicy {

  private final Duration initial;
  private final Duration max;
  private final double multiplier;
  private final double jitter;
  private final Predicate<? super Throwable> retryable;

  private RetryPolicy(Duration initial, Duration max, double multiplier, double jitter,
      Predicate<? super Throwable> retryable) {
    this.initial = initial;
    this.max = max;
    this.multiplier = multiplier;
    this.jitter = jitter;
    this.retryable = retryable;
  }

  /**
   * The default: exponential from 1 s, doubling, capped at 5 minutes, with 20% jitter; every error
   * is retried.
   *
   * @return the default policy
   */
  public static RetryPolicy defaults() {
    return exponential(Duration.ofSeconds(1), Duration.ofMinutes(5)).withJitter(0.2);
  }

  /**
   * The same delay before every retry.
   *
   * @param delay the delay, zero or more
   * @return the policy
   * @throws InvalidArgumentException if the delay is negative
   */
  public static RetryPolicy fixed(Duration delay) {
    checkDelay("delay", delay);
    return new RetryPolicy(delay, delay, 1.0, 0.0, e -> true);
  }

  /**
   * A delay that doubles with every attempt: {@code initial} after the first delivery,
   * {@code 2 × initial} after the second, and so on, never above {@code max}.
   *
   * @param initial the first delay, zero or more
   * @param max the cap, at least {@code initial}
   * @return the policy
   * @throws InvalidArgumentException if a delay is negative or {@code max < initial}
   */
  public static RetryPolicy exponential(Duration initial, Duration max) {
    checkDelay("initial", initial);
    checkDelay("max", max);
    if (max.compareTo(initial) < 0) {
      throw new InvalidArgumentException("max", "max (" + max + ") must not be below initial (" + initial + ")");
    }
    return new RetryPolicy(initial, max, 2.0, 0.0, e -> true);
  }

  /**
   * A copy whose delays are spread at random by up to {@code fraction} either way, so messages
   * that failed together do not all come back together.
   *
   * @param fraction from 0 (none) to 1
   * @return the copy
   * @throws InvalidArgumentException if the fraction is outside 0..1
   */
  public RetryPolicy withJitter(double fraction) {
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
      throw new InvalidArgumentException("jitter", "jitter must be between 0 and 1, got " + fraction);
    }
    return new RetryPolicy(initial, max, multiplier, fraction, retryable);
  }

  /**
   * A copy that retries only errors matching the predicate; any other error dead-letters the
   * message at once, whatever attempts remain.
   *
   * @param predicate which errors are worth retrying
   * @return the copy
   */
  public RetryPolicy retryIf(Predicate<? super Throwable> predicate) {
    return new RetryPolicy(initial, max, multiplier, jitter, Objects.requireNonNull(predicate, "predicate"));
  }

  /**
   * Whether an error is worth retrying.
   *
   * @param error the handler's error
   * @return true to release the message for a retry, false to dead-letter it
   */
  public boolean retries(Throwable error) {
    return retryable.test(error);
  }

  /**
   * The delay before the next delivery of a message whose delivery number {@code attempts} failed.
   *
   * @param attempts the message's attempts so far, 1 for its first delivery
   * @return the delay, never negative
   */
  public Duration delayAfter(int attempts) {
    double base = initial.toNanos() * Math.pow(multiplier, Math.max(0, attempts - 1));
    double capped = Math.min(base, (double) max.toNanos());
    double spread = jitter == 0.0 ? capped : capped * (1.0 + jitter * (2.0 * ThreadLocalRandom.current().nextDouble() - 1.0));
    return Duration.ofNanos((long) Math.max(0.0, spread));
  }

  private static void checkDelay(String field, Duration delay) {
    Objects.requireNonNull(delay, field);
    if (delay.isNegative()) {
      throw new InvalidArgumentException(field, field + " must not be negative, got " + delay);
    }
  }

  @Override
  public String toString() {
    return "RetryPolicy[initial=" + initial + ", max=" + max + ", multiplier=" + multiplier + ", jitter=" + jitter + "]";
  }
}
