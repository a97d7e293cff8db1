package io.pgqrs.worker;

import io.pgqrs.PgqrsPermanentException;

/**
 * A worker with this name is registered already.
 */
public class WorkerAlreadyExistsException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String workerName;

  /**
   * Creates the exception.
   *
   * @param workerName the name that is taken
   * @param message the message
   */
  public WorkerAlreadyExistsException(String workerName, String message) {
    super(message, null);
    this.workerName = workerName;
  }

  /**
   * The name that is taken.
   *
   * @return the workerName
   */
  public String workerName() {
    return workerName;
  }
}
