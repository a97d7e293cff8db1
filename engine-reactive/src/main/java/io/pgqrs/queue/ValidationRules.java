package io.pgqrs.queue;

import com.fasterxml.jackson.core.StreamReadConstraints;
import io.pgqrs.InvalidArgumentException;
import java.util.Set;

/**
 * Limits a producer applies to every payload before anything reaches the store. Immutable; each
 * {@code withX} returns a copy. A payload that breaks a rule is refused with a
 * {@link ValidationException} naming its index and the rule; a batch with one bad payload inserts
 * nothing.
 *
 * <p>A payload is stored only if the engine can read it back: whatever the rules, nesting beyond
 * {@link #MAX_READABLE_DEPTH}, strings beyond {@link #MAX_READABLE_STRING_LENGTH}, numbers or keys
 * beyond the reader's other limits (Jackson's default {@code StreamReadConstraints}), and strings
 * or keys holding a NUL or a lone surrogate (which no store keeps exactly) are refused.
 *
 * @param maxBytes the largest serialized payload, in UTF-8 bytes
 * @param maxDepth the deepest nesting of objects and arrays (the payload object itself is depth 1)
 * @param maxStringLength the longest string value or key, in characters
 * @param forbiddenKeys top-level keys a payload must not have
 * @param requiredKeys top-level keys a payload must have
 */
public record ValidationRules(
    int maxBytes, int maxDepth, int maxStringLength, Set<String> forbiddenKeys, Set<String> requiredKeys) {

  /** 1 MiB: the default {@link #maxBytes()}. */
  public static final int DEFAULT_MAX_BYTES = 1024 * 1024;

  /** 32: the default {@link #maxDepth()}. */
  public static final int DEFAULT_MAX_DEPTH = 32;

  /**
   * 1000: the deepest nesting the engine reads back (Jackson's default read limit), so the
   * largest {@link #maxDepth()}.
   */
  public static final int MAX_READABLE_DEPTH = StreamReadConstraints.DEFAULT_MAX_DEPTH;

  /**
   * 20,000,000: the longest string the engine reads back, in characters (Jackson's default read
   * limit), so the largest {@link #maxStringLength()}.
   */
  public static final int MAX_READABLE_STRING_LENGTH = StreamReadConstraints.DEFAULT_MAX_STRING_LEN;

  /**
   * Checks the limits.
   *
   * @throws InvalidArgumentException if a limit is below 1, or the depth or string length is beyond
   *     what the engine reads back
   */
  public ValidationRules {
    if (maxBytes < 1) {
      throw new InvalidArgumentException("maxBytes", "maxBytes must be at least 1, got " + maxBytes);
    }
    if (maxDepth < 1 || maxDepth > MAX_READABLE_DEPTH) {
      throw new InvalidArgumentException("maxDepth",
          "maxDepth must be 1 to " + MAX_READABLE_DEPTH + " (what the engine reads back), got " + maxDepth);
    }
    if (maxStringLength < 1 || maxStringLength > MAX_READABLE_STRING_LENGTH) {
      throw new InvalidArgumentException("maxStringLength", "maxStringLength must be 1 to "
          + MAX_READABLE_STRING_LENGTH + " (what the engine reads back), got " + maxStringLength);
    }
    forbiddenKeys = Set.copyOf(forbiddenKeys);
    requiredKeys = Set.copyOf(requiredKeys);
  }

  /**
   * The defaults: 1 MiB, depth 32, strings bounded only by the size, no key rules.
   *
   * @return the default rules
   */
  public static ValidationRules defaults() {
    return new ValidationRules(DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_BYTES, Set.of(), Set.of());
  }

  /**
   * A copy with another size limit.
   *
   * @param bytes the largest serialized payload in bytes
   * @return the copy
   */
  public ValidationRules withMaxBytes(int bytes) {
    return new ValidationRules(bytes, maxDepth, maxStringLength, forbiddenKeys, requiredKeys);
  }

  /**
   * A copy with another nesting limit.
   *
   * @param depth the deepest nesting allowed
   * @return the copy
   */
  public ValidationRules withMaxDepth(int depth) {
    return new ValidationRules(maxBytes, depth, maxStringLength, forbiddenKeys, requiredKeys);
  }

  /**
   * A copy with another string length limit.
   *
   * @param length the longest string value or key in characters
   * @return the copy
   */
  public ValidationRules withMaxStringLength(int length) {
    return new ValidationRules(maxBytes, maxDepth, length, forbiddenKeys, requiredKeys);
  }

  /**
   * A copy that forbids the given top-level keys.
   *
   * @param keys the forbidden keys
   * @return the copy
   */
  public ValidationRules withForbiddenKeys(Set<String> keys) {
    return new ValidationRules(maxBytes, maxDepth, maxStringLength, keys, requiredKeys);
  }

  /**
   * A copy that requires the given top-level keys.
   *
   * @param keys the required keys
   * @return the copy
   */
  public ValidationRules withRequiredKeys(Set<String> keys) {
    return new ValidationRules(maxBytes, maxDepth, maxStringLength, forbiddenKeys, keys);
  }
}
