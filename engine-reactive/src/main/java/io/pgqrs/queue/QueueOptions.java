package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;
import org.jspecify.annotations.Nullable;

/**
 * The settings of a queue given at {@link Queues#create(String, QueueOptions)} and changed by
 * {@link Queues#configure(String, QueueOptions)}. Immutable; build one with {@link #builder()}.
 * The builder checks each value as it is set and throws {@link InvalidArgumentException} for a
 * value out of range, so a bad option never reaches the store.
 *
 * <p>{@code maxLeased} is a global concurrency limit: at most that many messages of the queue are
 * leased at once, counted over every engine and consumer on the database, enforced by the claim
 * itself (a claim takes fewer messages, or none, when the limit is reached; the messages wait, in
 * their order, until a lease is settled or expires). Messages leased without a claim (a workflow
 * trigger that starts its run at once) are counted but not refused. Unset means no limit, which
 * costs a claim nothing.
 *
 * <p>{@code maxClaimsPerSecond} is a consumer-side rate limit: at most that many messages of the
 * queue are started (claimed) per second, over every engine, as a token bucket stored on the queue
 * and taken by the claim (it holds at most one second's tokens, so a burst after a quiet spell is
 * at most that many). A claim that finds no token takes nothing and reports when the next one is
 * due, and consumers wait until then instead of polling. It is distinct from a producer's
 * {@code RateLimit}, which limits enqueues of one producer.
 *
 * <p>{@code maxLeasedPerKey} is per-key fairness: at most that many messages of one group key
 * ({@link NewMessage#withGroupKey(String)}) are leased at once, over every engine, and a claim takes
 * messages round-robin across keys: the first claimable message of each key before the second of
 * any key, the keys in the claim order (priority, then due time, then id) of their first claimable
 * message, so one key's burst does not starve the others. The messages without a group key form
 * one group of their own, limited and ordered like a key. Such a queue is claimed under a lock of
 * its row, as a limited one is; unset costs a claim nothing. Workflow run claims do not apply it.
 *
 * @param maxAttempts deliveries after which a message is dead-lettered at its next claim, or null
 *     for the engine's default (at create) or the queue's current value (at configure)
 * @param maxLeased the most messages of the queue leased at once, or null for no limit
 * @param maxClaimsPerSecond the most messages of the queue claimed per second, or null for no limit
 * @param maxLeasedPerKey the most messages of one group key leased at once, or null for no per-key
 *     limit (and no round-robin)
 */
public record QueueOptions(@Nullable Integer maxAttempts, @Nullable Integer maxLeased,
    @Nullable Integer maxClaimsPerSecond, @Nullable Integer maxLeasedPerKey) {

  /** The highest max attempts a queue may have. */
  public static final int MAX_ATTEMPTS_LIMIT = 1_000_000;

  /** The highest concurrency limit a queue may have. */
  public static final int MAX_LEASED_LIMIT = 1_000_000;

  /** The highest per-key concurrency limit a queue may have. */
  public static final int MAX_LEASED_PER_KEY_LIMIT = 1_000_000;

  /** The highest claim rate a queue may have, per second. */
  public static final int MAX_CLAIMS_PER_SECOND_LIMIT = 1_000_000;

  /**
   * Checks the values.
   *
   * @throws InvalidArgumentException if one is out of range
   */
  public QueueOptions {
    check("maxAttempts", maxAttempts, MAX_ATTEMPTS_LIMIT);
    check("maxLeased", maxLeased, MAX_LEASED_LIMIT);
    check("maxClaimsPerSecond", maxClaimsPerSecond, MAX_CLAIMS_PER_SECOND_LIMIT);
    check("maxLeasedPerKey", maxLeasedPerKey, MAX_LEASED_PER_KEY_LIMIT);
  }

  /**
   * Options without a per-key limit.
   *
   * @param maxAttempts deliveries after which a message is dead-lettered, or null
   * @param maxLeased the most messages leased at once, or null for no limit
   * @param maxClaimsPerSecond the most messages claimed per second, or null for no limit
   * @throws InvalidArgumentException if a value is out of range
   */
  public QueueOptions(@Nullable Integer maxAttempts, @Nullable Integer maxLeased,
      @Nullable Integer maxClaimsPerSecond) {
    this(maxAttempts, maxLeased, maxClaimsPerSecond, null);
  }

  /**
   * Options without a claim rate limit.
   *
   * @param maxAttempts deliveries after which a message is dead-lettered, or null
   * @param maxLeased the most messages leased at once, or null for no limit
   * @throws InvalidArgumentException if a value is out of range
   */
  public QueueOptions(@Nullable Integer maxAttempts, @Nullable Integer maxLeased) {
    this(maxAttempts, maxLeased, null, null);
  }

  private static void check(String name, @Nullable Integer value, int max) {
    if (value != null && (value < 1 || value > max)) {
      throw new InvalidArgumentException(name, name + " must be between 1 and " + max + ", got " + value);
    }
  }

  /**
   * Options with every value unset: the default max attempts and no concurrency limit.
   *
   * @return the options
   */
  public static QueueOptions defaults() {
    return new QueueOptions(null, null, null, null);
  }

  /**
   * A builder starting from {@link #defaults()}.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link QueueOptions}; not thread-safe. */
  public static final class Builder {
    private @Nullable Integer maxAttempts;
    private @Nullable Integer maxLeased;
    private @Nullable Integer maxClaimsPerSecond;
    private @Nullable Integer maxLeasedPerKey;

    private Builder() {}

    /**
     * Sets per-key fairness: the most messages of one group key leased at once, and round-robin
     * claims across keys (see {@link QueueOptions}).
     *
     * @param maxLeasedPerKey 1 to {@link #MAX_LEASED_PER_KEY_LIMIT}
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    public Builder maxLeasedPerKey(int maxLeasedPerKey) {
      check("maxLeasedPerKey", maxLeasedPerKey, MAX_LEASED_PER_KEY_LIMIT);
      this.maxLeasedPerKey = maxLeasedPerKey;
      return this;
    }

    /**
     * Sets the consumer-side rate limit: the most messages of the queue claimed per second.
     *
     * @param maxClaimsPerSecond 1 to {@link #MAX_CLAIMS_PER_SECOND_LIMIT}
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    public Builder maxClaimsPerSecond(int maxClaimsPerSecond) {
      check("maxClaimsPerSecond", maxClaimsPerSecond, MAX_CLAIMS_PER_SECOND_LIMIT);
      this.maxClaimsPerSecond = maxClaimsPerSecond;
      return this;
    }

    /**
     * Sets the deliveries after which a message is dead-lettered.
     *
     * @param maxAttempts 1 to {@link #MAX_ATTEMPTS_LIMIT}
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    public Builder maxAttempts(int maxAttempts) {
      check("maxAttempts", maxAttempts, MAX_ATTEMPTS_LIMIT);
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * Sets the global concurrency limit: the most messages of the queue leased at once.
     *
     * @param maxLeased 1 to {@link #MAX_LEASED_LIMIT}
     * @return this builder
     * @throws InvalidArgumentException if out of range
     */
    public Builder maxLeased(int maxLeased) {
      check("maxLeased", maxLeased, MAX_LEASED_LIMIT);
      this.maxLeased = maxLeased;
      return this;
    }

    /**
     * Removes the concurrency limit.
     *
     * @return this builder
     */
    public Builder unlimited() {
      this.maxLeased = null;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public QueueOptions build() {
      return new QueueOptions(maxAttempts, maxLeased, maxClaimsPerSecond, maxLeasedPerKey);
    }
  }
}
