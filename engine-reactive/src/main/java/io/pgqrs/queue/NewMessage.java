package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * @param headers small string metadata stored with the message and given back on {@link
 *     Message#headers()}: a trace context ({@code traceparent}), a correlation id. Never null (empty
 *     for none); at most {@link #MAX_HEADERS} entries, names of 1 to {@link #MAX_HEADER_NAME}
 *     characters without control characters, values of at most {@link #MAX_HEADER_VALUE}
 *     characters. Kept as an unmodifiable copy; their order is not kept by the store
 */
public record NewMessage(
    Object payload,
    @Nullable Duration delay,
    @Nullable Instant visibleAt,
    @Nullable String dedupKey,
    int priority,
    @Nullable String groupKey,
    Map<String, String> headers) {

  /** The most characters a group key may have. */
  public static final int MAX_GROUP_KEY = 256;

  /** The most headers a message may carry. */
  public static final int MAX_HEADERS = 32;

  /** The most characters a header name may have. */
  public static final int MAX_HEADER_NAME = 128;

  /** The most characters a header value may have. */
  public static final int MAX_HEADER_VALUE = 4096;

  /**
   * A message without headers.
   *
   * @param payload the payload
   * @param delay the delay, or null
   * @param visibleAt the instant it becomes claimable, or null
   * @param dedupKey the dedup key, or null
   * @param priority the priority
   * @param groupKey the group key, or null
   * @throws InvalidArgumentException as the canonical constructor
   */
  public NewMessage(Object payload, @Nullable Duration delay, @Nullable Instant visibleAt,
      @Nullable String dedupKey, int priority, @Nullable String groupKey) {
    this(payload, delay, visibleAt, dedupKey, priority, groupKey, Map.of());
  }

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
    this(payload, delay, visibleAt, dedupKey, priority, null, Map.of());
  }

  /**
   * Checks the combination of fields.
   *
   * @throws NullPointerException if {@code payload} is null
   * @throws InvalidArgumentException if both a delay and an instant are given, the delay is negative,
   *     the group key is blank, too long or has a control character, or the headers break their
   *     bounds (see {@link #headers()})
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
    headers = checkedHeaders(headers);
  }

  private static Map<String, String> checkedHeaders(@Nullable Map<String, String> given) {
    if (given == null || given.isEmpty()) {
      return Map.of();
    }
    if (given.size() > MAX_HEADERS) {
      throw new InvalidArgumentException("headers", "a message carries at most " + MAX_HEADERS
          + " headers, got " + given.size());
    }
    Map<String, String> copy = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      if (name == null || name.isEmpty() || name.length() > MAX_HEADER_NAME
          || name.chars().anyMatch(Character::isISOControl)) {
        throw new InvalidArgumentException("headers", "a header name must have 1 to " + MAX_HEADER_NAME
            + " characters without control characters");
      }
      if (value == null || value.length() > MAX_HEADER_VALUE || value.indexOf('\0') >= 0) {
        throw new InvalidArgumentException("headers", "header '" + name + "' needs a value of at most "
            + MAX_HEADER_VALUE + " characters without NUL");
      }
      copy.put(name, value);
    }
    return java.util.Collections.unmodifiableMap(copy);
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
    return new NewMessage(payload, delay, null, dedupKey, priority, groupKey, headers);
  }

  /**
   * A copy that becomes claimable at the given instant (an instant in the past means now).
   *
   * @param at the instant
   * @return the copy
   */
  public NewMessage withVisibleAt(Instant at) {
    return new NewMessage(payload, null, at, dedupKey, priority, groupKey, headers);
  }

  /**
   * A copy carrying a dedup key.
   *
   * @param key the key
   * @return the copy
   */
  public NewMessage withDedupKey(String key) {
    return new NewMessage(payload, delay, visibleAt, key, priority, groupKey, headers);
  }

  /**
   * A copy with the given priority.
   *
   * @param newPriority higher is claimed first
   * @return the copy
   */
  public NewMessage withPriority(int newPriority) {
    return new NewMessage(payload, delay, visibleAt, dedupKey, newPriority, groupKey, headers);
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
    return new NewMessage(payload, delay, visibleAt, dedupKey, priority, key, headers);
  }

  /**
   * A copy whose headers are exactly {@code newHeaders} (replacing any it had).
   *
   * @param newHeaders the headers; empty for none
   * @return the copy
   * @throws InvalidArgumentException if the headers break their bounds (see {@link #headers()})
   */
  public NewMessage withHeaders(Map<String, String> newHeaders) {
    if (newHeaders == null) {
      throw new InvalidArgumentException("headers", "headers must not be null");
    }
    return new NewMessage(payload, delay, visibleAt, dedupKey, priority, groupKey, newHeaders);
  }

  /**
   * A copy with one header added, or replaced if a header of that name is already set.
   *
   * @param name the header name
   * @param value its value
   * @return the copy
   * @throws InvalidArgumentException if the header or the resulting set breaks the bounds (see
   *     {@link #headers()})
   */
  public NewMessage withHeader(String name, String value) {
    Map<String, String> next = new LinkedHashMap<>(headers);
    next.put(name, value);
    return new NewMessage(payload, delay, visibleAt, dedupKey, priority, groupKey, next);
  }
}
