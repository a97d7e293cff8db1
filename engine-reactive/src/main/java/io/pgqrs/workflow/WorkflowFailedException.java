package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * The run ended in {@link RunStatus#ERROR} (or {@link RunStatus#CANCELLED}, see
 * {@link #status()}); the recorded error or cancel reason is the message. Emitted by
 * {@link RunHandle#result()}.
 */
public class WorkflowFailedException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long runId;
  private final RunStatus status;
  private final String error;

  /**
   * Creates the exception.
   *
   * @param runId the run
   * @param status ERROR or CANCELLED
   * @param error the recorded error or cancel reason
   */
  public WorkflowFailedException(long runId, RunStatus status, String error) {
    super("workflow run " + runId + " ended " + status + ": " + error, null);
    this.runId = runId;
    this.status = status;
    this.error = error;
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
   * How the run ended.
   *
   * @return ERROR or CANCELLED
   */
  public RunStatus status() {
    return status;
  }

  /**
   * The recorded error, or the cancel reason.
   *
   * @return the error text
   */
  public String error() {
    return error;
  }
}
