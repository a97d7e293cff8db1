package io.pgqrs.queue;

import io.pgqrs.PgqrsPermanentException;

/**
 * A payload was rejected by the producer's {@link ValidationRules}. Nothing of the request was
 * inserted: a batch with one bad payload inserts no message at all.
 */
public class ValidationException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  /** The rule a payload broke. */
  public enum Rule {
    /** The payload is not a JSON object. */
    NOT_AN_OBJECT,
    /** The serialized payload is larger than the maximum size. */
    MAX_SIZE,
    /** Objects or arrays are nested deeper than allowed. */
    MAX_DEPTH,
    /** A string value is longer than allowed. */
    MAX_STRING_LENGTH,
    /** A forbidden key appears at the top level. */
    FORBIDDEN_KEY,
    /** A required key is missing from the top level. */
    REQUIRED_KEY,
    /** The payload could not be turned into JSON, or the JSON could not be read back. */
    NOT_SERIALIZABLE,
    /**
     * A string value or key holds text no store keeps exactly: a NUL (U+0000) or a surrogate that
     * is not half of a pair (UTF-8 cannot encode it).
     */
    UNSTORABLE_TEXT
  }

  private final String queue;
  private final int index;
  private final Rule rule;

  /**
   * Creates the exception.
   *
   * @param queue the queue the payload was meant for
   * @param index the position of the offending payload in its batch (0 for a single enqueue)
   * @param rule the rule that was broken
   * @param message the message, naming the index, the rule and the limit
   */
  public ValidationException(String queue, int index, Rule rule, String message) {
    super(message, null);
    this.queue = queue;
    this.index = index;
    this.rule = rule;
  }

  /**
   * The queue the payload was meant for.
   *
   * @return the queue name
   */
  public String queue() {
    return queue;
  }

  /**
   * The position of the offending payload in its batch; 0 for a single enqueue.
   *
   * @return the index
   */
  public int index() {
    return index;
  }

  /**
   * The rule that was broken.
   *
   * @return the rule
   */
  public Rule rule() {
    return rule;
  }
}
