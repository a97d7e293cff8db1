package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A message to enqueue: a payload plus optional delay, dedup key and priority. Immutable; each
 * {@code withX} returns a copy, so a value can be kept and reused as a template.
 *
 * @param payload a {@code JsonNode} object or any value Jackson serializes to a JSON object
 * @param delay how long after the enqueue commits the message becomes claimable; null for now
 * @param visibleAt the instant the message becomes claimable; null for now. At most one of
 *     {@code delay} and {@code visibleAt} may be set
 * @param dedupKey while a live message of the queue has this key, enqueueing again inserts nothing
 *     and returns the existing id; null for no deduplication
 * @param priority higher is claimed first; default 0
 * @param groupKey the group (a tenant, say) the message belongs to, for a queue with per-key
 *     fairness ({@link QueueOptions#maxLeasedPerKey()}); null for none. 1 to
 *     {@link #MAX_GROUP_KEY} characters, not blank, without control characters
 */
public record NewMessage(
    Object payload,
    @Nullable Duration delay,
    @Nullable Instant visibleAt,
    @Nullable String dedupKey,
    int priority,
    @Nullable String groupKey) {

  /** The most characters a group key may have. */
  public static final int MAX_GROUP_KEY = 256;

  /**
   * A message without a group key.
   *
   * @param payload the payload
   * @param delay the delay, or null
   * @param visibleAt the instant it becomes claimable, or null
   * @param dedupKey the dedup key, or null
   * @param priority the priority
   * @throws InvalidArgumentException as the canonical constructor
   */
  public NewMessage(Object payload, @Nullable Duration delay, @Nullable Instant visibleAt,
      @Nullable String dedupKey, int priority) {
    this(payload, delay, visibleAt, dedupKey, priority, null);
  }

  /**
   * Checks the combination of fields.
   *
   * @throws NullPointerException if {@code payload} is null
   * @throws InvalidArgumentException if both a delay and an instant are given, the delay is negative,
   *     or the group key is blank, too long or has a control character
   */
  public NewMessage {
    Objects.requireNonNull(payload, "payload");
    if (delay != null && visibleAt != null) {
      throw new InvalidArgumentException("delay", "give either a delay or an instant, not both");
    }
    if (delay != null && delay.isNegative()) {
      throw new InvalidArgumentException("delay", "delay must not be negative, got " + delay);
    }
    if (groupKey != null && (groupKey.isBlank() || groupKey.length() > MAX_GROUP_KEY
        || groupKey.chars().anyMatch(Character::isISOControl))) {
      throw new InvalidArgumentException("groupKey", "group key must have 1 to " + MAX_GROUP_KEY
          + " characters, not all blank and without control characters");
    }
  }

  /**
   * A message with the given payload, visible at once, no dedup key, priority 0.
   *
   * @param payload the payload
   * @return the message
   */
  public static NewMessage of(Object payload) {
    return new NewMessage(payload, null, null, null, 0);
  }

  /**
   * A copy that becomes claimable {@code delay} after the enqueue commits.
   *
   * @param delay a non-negative delay
   * @return the copy
   * @throws InvalidArgumentException if the delay is negative
   */
  public NewMessage withDelay(Duration delay) {
    return new NewMessage(payload, delay, null, dedupKey, priority, groupKey);
  }

  /**
   * A copy that becomes claimable at the given instant (an instant in the past means now).
   *
   * @param at the instant
   * @return the copy
   */
  public NewMessage withVisibleAt(Instant at) {
    return new NewMessage(payload, null, at, dedupKey, priority, groupKey);
  }

  /**
   * A copy carrying a dedup key.
   *
   * @param key the key
   * @return the copy
   */
  public NewMessage withDedupKey(String key) {
    return new NewMessage(payload, delay, visibleAt, key, priority, groupKey);
  }

  /**
   * A copy with the given priority.
   *
   * @param newPriority higher is claimed first
   * @return the copy
   */
  public NewMessage withPriority(int newPriority) {
    return new NewMessage(payload, delay, visibleAt, dedupKey, newPriority, groupKey);
  }

  /**
   * A copy carrying a group key, for per-key fairness ({@link QueueOptions#maxLeasedPerKey()}).
   *
   * @param key 1 to {@link #MAX_GROUP_KEY} characters, not blank, without control characters
   * @return the copy
   * @throws InvalidArgumentException if the key is null, blank, too long or has a control character
   */
  public NewMessage withGroupKey(String key) {
    if (key == null) {
      throw new InvalidArgumentException("groupKey", "group key must not be null");
    }
    return new NewMessage(payload, delay, visibleAt, dedupKey, priority, key);
  }
}
