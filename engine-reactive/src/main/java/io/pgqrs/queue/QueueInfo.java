package io.pgqrs.queue;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A queue as stored.
 *
 * @param id the queue id
 * @param name the queue name, unique within a schema
 * @param maxAttempts deliveries after which a message is dead-lettered at its next claim
 * @param createdAt when the queue was created
 * @param maxLeased the most messages of the queue leased at once across every engine (see
 *     {@link QueueOptions}), or null for no limit
 * @param maxClaimsPerSecond the most messages of the queue claimed per second across every engine,
 *     or null for no limit
 * @param maxLeasedPerKey the most messages of one group key leased at once, claimed round-robin
 *     across keys (see {@link QueueOptions}), or null for no per-key limit
 */
public record QueueInfo(long id, String name, int maxAttempts, Instant createdAt, @Nullable Integer maxLeased,
    @Nullable Integer maxClaimsPerSecond, @Nullable Integer maxLeasedPerKey) {

  /**
   * A queue without a per-key limit.
   *
   * @param id the queue id
   * @param name the queue name
   * @param maxAttempts deliveries after which a message is dead-lettered
   * @param createdAt when the queue was created
   * @param maxLeased the most messages leased at once, or null
   * @param maxClaimsPerSecond the most messages claimed per second, or null
   */
  public QueueInfo(long id, String name, int maxAttempts, Instant createdAt, @Nullable Integer maxLeased,
      @Nullable Integer maxClaimsPerSecond) {
    this(id, name, maxAttempts, createdAt, maxLeased, maxClaimsPerSecond, null);
  }

  /**
   * A queue without a concurrency limit.
   *
   * @param id the queue id
   * @param name the queue name
   * @param maxAttempts deliveries after which a message is dead-lettered
   * @param createdAt when the queue was created
   */
  public QueueInfo(long id, String name, int maxAttempts, Instant createdAt) {
    this(id, name, maxAttempts, createdAt, null, null, null);
  }

  /**
   * The queue's options, as {@link Queues#configure(String, QueueOptions)} takes them.
   *
   * @return the options
   */
  public QueueOptions options() {
    return new QueueOptions(maxAttempts, maxLeased, maxClaimsPerSecond, maxLeasedPerKey);
  }
}
