package io.pgqrs;

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
    super(message, null);
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
