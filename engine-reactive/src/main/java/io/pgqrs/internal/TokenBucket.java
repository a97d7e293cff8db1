package io.pgqrs.internal;

import io.pgqrs.queue.RateLimit;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A thread-safe token bucket; time comes from an injected nanosecond clock so tests need no sleeps.
 * A clock that steps back refills nothing for that step and counts on from the earlier reading.
 */
final class TokenBucket {

  private final double permitsPerNano;
  private final double capacity;
  private final LongSupplier nanoClock;
  private double available;
  private long refilledAt;

  TokenBucket(RateLimit limit, LongSupplier nanoClock) {
    this.permitsPerNano = limit.permitsPerSecond() / 1_000_000_000d;
    this.capacity = limit.burst();
    this.nanoClock = nanoClock;
    this.available = capacity;
    this.refilledAt = nanoClock.getAsLong();
  }

  /**
   * Takes {@code permits} if all are available.
   *
   * @return {@link Duration#ZERO} when taken, otherwise how long until they would be
   */
  synchronized Duration tryAcquire(int permits) {
    long now = nanoClock.getAsLong();
    available = Math.min(capacity, available + Math.max(0L, now - refilledAt) * permitsPerNano);
    refilledAt = now;
    if (available >= permits) {
      available -= permits;
      return Duration.ZERO;
    }
    return Duration.ofNanos((long) Math.ceil((permits - available) / permitsPerNano));
  }

  int capacity() {
    return (int) capacity;
  }
}
