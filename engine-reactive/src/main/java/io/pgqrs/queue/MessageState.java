package io.pgqrs.queue;

/**
 * Where a message is in its lifecycle, as stored. Whether a live message is pending, leased or
 * delayed depends on the clock and is reported by {@link Message#isLeased(java.time.Instant)} and the
 * queue metrics.
 */
public enum MessageState {
  /** In the queue: pending, leased or delayed. */
  LIVE,
  /** Acknowledged and kept for audit until retention purges it. */
  ARCHIVED,
  /** Dead-lettered after its last attempt; kept with its payload and last error until replayed or purged. */
  DEAD
}
