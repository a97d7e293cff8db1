package io.pgqrs.internal;

import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import java.util.regex.Pattern;

/**
 * Checks of names that end up in SQL, as identifiers (schema) or as values (queue, worker). Not
 * part of the public API.
 */
public final class Names {

  /** PostgreSQL truncates identifiers at 63 bytes; we refuse instead of truncating. */
  public static final int MAX_IDENTIFIER_LENGTH = 63;

  private static final Pattern SCHEMA = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Pattern QUEUE = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]{0,62}(@[A-Za-z0-9_.\\-]{1,32})?");
  private static final int MAX_WORKER_NAME = 200;

  private Names() {}

  /**
   * Checks a schema name: a letter or underscore, then letters, digits or underscores, at most 63.
   *
   * @param schema the name
   * @return the name
   * @throws ConfigurationException naming {@code schema} if invalid
   */
  public static String checkSchema(String schema) {
    if (schema == null || !SCHEMA.matcher(schema).matches()) {
      throw new ConfigurationException(
          "schema",
          "invalid schema name " + quoteForMessage(schema)
              + ": use 1 to 63 letters, digits or underscores, not starting with a digit");
    }
    return schema;
  }

  /**
   * Checks a queue name: a letter or underscore, then letters, digits, {@code _ . -}, at most 63;
   * optionally followed by {@code @} and a workflow version (1 to 32 letters, digits,
   * {@code _ . -}), the form of the queues that carry the runs of one version of a workflow.
   *
   * @param queue the name
   * @return the name
   * @throws InvalidArgumentException naming {@code queue} if invalid
   */
  public static String checkQueue(String queue) {
    if (queue == null || !QUEUE.matcher(queue).matches()) {
      throw new InvalidArgumentException(
          "queue",
          "invalid queue name " + quoteForMessage(queue)
              + ": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or '_'");
    }
    return queue;
  }

  /**
   * Checks a worker name: 1 to 200 characters without control characters or lone surrogates.
   *
   * @param name the name
   * @return the name
   * @throws InvalidArgumentException naming {@code workerName} if invalid
   */
  public static String checkWorkerName(String name) {
    if (name == null || name.isBlank() || name.length() > MAX_WORKER_NAME
        || name.chars().anyMatch(Character::isISOControl) || StoredText.unstorableAt(name) >= 0) {
      throw new InvalidArgumentException(
          "workerName",
          "invalid worker name " + quoteForMessage(name)
              + ": use 1 to 200 characters, not blank, without control characters or lone surrogates");
    }
    return name;
  }

  /**
   * Quotes an identifier already checked by {@link #checkSchema(String)} for use in SQL text.
   *
   * @param identifier a checked identifier
   * @return the identifier in double quotes
   */
  public static String quoteIdentifier(String identifier) {
    return '"' + checkSchema(identifier) + '"';
  }

  static String quoteForMessage(String value) {
    if (value == null) {
      return "null";
    }
    String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
    return "'" + shown + "' (" + value.length() + " characters)";
  }
}
