package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * The store could not be reached or lost its connection while running an operation, or the
 * database asked for the transaction to be retried (serialization failure, deadlock). When this is
 * signalled after a write was sent, whether it committed is unknown: retried enqueues should carry
 * a dedup key.
 */
public class StoreUnavailableException extends PgqrsTransientException {

  private static final long serialVersionUID = 1L;

  private final String operation;

  /**
   * Creates the exception.
   *
   * @param operation the store operation that failed
   * @param message the message
   * @param cause the driver error
   */
  public StoreUnavailableException(String operation, String message, @Nullable Throwable cause) {
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
