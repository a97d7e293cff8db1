package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;

/**
 * A token-bucket limit on how fast one producer enqueues: {@code permitsPerSecond} refill, up to
 * {@code burst} stored. Each message takes one permit; a batch takes as many as it has messages,
 * all or none. An enqueue refused for want of permits fails with {@link RateLimitedException} (a
 * transient error: retry after its {@code retryAfter}) and inserts nothing. A batch larger than
 * the burst could never pass, however long it waited: it fails at once with a permanent
 * {@link InvalidArgumentException} naming {@code messages}, inserts nothing and takes no permits.
 *
 * @param permitsPerSecond the sustained rate, above 0
 * @param burst the most permits that can be spent at once, at least 1
 */
public record RateLimit(double permitsPerSecond, int burst) {

  /**
   * Checks the values.
   *
   * @throws InvalidArgumentException if the rate is not positive or the burst is below 1
   */
  public RateLimit {
    if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
      throw new InvalidArgumentException(
          "permitsPerSecond", "permitsPerSecond must be a positive number, got " + permitsPerSecond);
    }
    if (burst < 1) {
      throw new InvalidArgumentException("burst", "burst must be at least 1, got " + burst);
    }
  }
}
