package io.pgqrs.queue;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Counts for one queue, read in one statement so they are consistent with each other.
 *
 * @param queue the queue name
 * @param pending live messages that can be claimed now
 * @param leased live messages held under an unexpired lease
 * @param delayed live messages not yet visible and not leased (delayed enqueue or release)
 * @param archived archived messages kept for audit
 * @param dead dead-lettered messages
 * @param oldestPendingAge how long the oldest claimable message has been visible, null if none
 */
public record QueueMetrics(
    String queue,
    long pending,
    long leased,
    long delayed,
    long archived,
    long dead,
    @Nullable Duration oldestPendingAge) {

  /**
   * Live messages: pending, leased and delayed together.
   *
   * @return the number of live messages
   */
  public long live() {
    return pending + leased + delayed;
  }
}
