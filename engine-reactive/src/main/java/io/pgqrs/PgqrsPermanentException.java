package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * A failure that retrying the same input cannot fix: invalid input, an unknown queue, a refused
 * operation, a schema that is not installed.
 */
public non-sealed class PgqrsPermanentException extends PgqrsException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates a permanent failure.
   *
   * @param message what failed and why
   * @param cause the underlying error, if any
   */
  public PgqrsPermanentException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return false;
  }
}
