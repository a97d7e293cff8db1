package io.pgqrs.worker;

import io.pgqrs.PgqrsPermanentException;

/**
 * A worker state transition that is not allowed, such as resuming a stopped worker.
 */
public class InvalidWorkerStateException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long workerId;
  private final WorkerStatus status;

  /**
   * Creates the exception.
   *
   * @param workerId the worker whose state was to change
   * @param status the state the worker is in
   * @param message the message
   */
  public InvalidWorkerStateException(long workerId, WorkerStatus status, String message) {
    super(message, null);
    this.workerId = workerId;
    this.status = status;
  }

  /**
   * The worker whose state was to change.
   *
   * @return the workerId
   */
  public long workerId() {
    return workerId;
  }

  /**
   * The state the worker is in.
   *
   * @return the status
   */
  public WorkerStatus status() {
    return status;
  }
}
