package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * The operation does not apply to the run in its current status: a signal to a finished run,
 * resuming a run that is not paused, pausing or cancelling a finished one. Nothing was changed.
 */
public class RunStateException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long runId;
  private final RunStatus status;

  /**
   * Creates the exception.
   *
   * @param runId the run
   * @param status its status when the operation was refused
   * @param operation what was asked, e.g. "signal"
   */
  public RunStateException(long runId, RunStatus status, String operation) {
    super("cannot " + operation + " workflow run " + runId + ": it is " + status, null);
    this.runId = runId;
    this.status = status;
  }

  /**
   * The run.
   *
   * @return the run id
   */
  public long runId() {
    return runId;
  }

  /**
   * The run's status when the operation was refused.
   *
   * @return the status
   */
  public RunStatus status() {
    return status;
  }
}
