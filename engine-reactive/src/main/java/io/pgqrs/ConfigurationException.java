package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * Invalid configuration: a DSN, option, schema name or environment variable that cannot be used.
 * {@link #field()} names the offending field (for example {@code dsn}, {@code schema},
 * {@code poolMaxSize}, {@code PGQRS_LEASE_DURATION}).
 */
public class ConfigurationException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String field;

  /**
   * Creates the exception.
   *
   * @param field the configuration field or environment variable that is invalid
   * @param message the message
   */
  public ConfigurationException(String field, String message) {
    this(field, message, null);
  }

  /**
   * Creates the exception with the error that revealed the misconfiguration, such as a database
   * error that only a pooler set up differently (or a DSN saying so) avoids.
   *
   * @param field the configuration field or environment variable that is invalid
   * @param message the message
   * @param cause the error that revealed it, or null
   */
  public ConfigurationException(String field, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.field = field;
  }

  /**
   * The configuration field or environment variable that is invalid.
   *
   * @return the field
   */
  public String field() {
    return field;
  }
}
