package io.pgqrs;

/**
 * The pgqrs schema is missing or older than this library; run {@code admin().install()}.
 */
public class SchemaNotInstalledException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String schema;

  /**
   * Creates the exception.
   *
   * @param schema the schema that was used
   * @param message the message
   */
  public SchemaNotInstalledException(String schema, String message) {
    super(message, null);
    this.schema = schema;
  }

  /**
   * The schema that was used.
   *
   * @return the schema
   */
  public String schema() {
    return schema;
  }
}
