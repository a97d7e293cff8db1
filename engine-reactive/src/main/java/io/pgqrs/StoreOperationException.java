package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * A store operation failed for a reason that retrying will not fix (a constraint violation, a
 * syntax or permission error, an unexpected database state). The message names the operation and
 * the database's own error.
 */
public class StoreOperationException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String operation;

  /**
   * Creates the exception.
   *
   * @param operation the store operation that failed
   * @param message the message
   * @param cause the driver error
   */
  public StoreOperationException(String operation, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.operation = operation;
  }

  /**
   * The store operation that failed, for example {@code claim} or {@code enqueue}.
   *
   * @return the operation name
   */
  public String operation() {
    return operation;
  }
}
