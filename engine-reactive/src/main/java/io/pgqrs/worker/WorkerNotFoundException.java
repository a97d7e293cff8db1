package io.pgqrs.worker;

import io.pgqrs.PgqrsPermanentException;

/**
 * The worker does not exist.
 */
public class WorkerNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long workerId;

  /**
   * Creates the exception.
   *
   * @param workerId the id of the worker that was asked for
   * @param message the message
   */
  public WorkerNotFoundException(long workerId, String message) {
    super(message, null);
    this.workerId = workerId;
  }

  /**
   * The id of the worker that was asked for.
   *
   * @return the workerId
   */
  public long workerId() {
    return workerId;
  }
}
