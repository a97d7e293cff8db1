package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * A failure that may go away by itself: retrying the same operation later may succeed.
 */
public non-sealed class PgqrsTransientException extends PgqrsException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates a transient failure.
   *
   * @param message what failed, naming the operation
   * @param cause the underlying driver error, if any
   */
  public PgqrsTransientException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return true;
  }
}
