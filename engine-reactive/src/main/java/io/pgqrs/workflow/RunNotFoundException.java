package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/** The workflow run does not exist (it may have been deleted with its workflow's queue). */
public class RunNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long runId;

  /**
   * Creates the exception.
   *
   * @param runId the run asked for
   */
  public RunNotFoundException(long runId) {
    super("workflow run " + runId + " does not exist", null);
    this.runId = runId;
  }

  /**
   * The run asked for.
   *
   * @return the run id
   */
  public long runId() {
    return runId;
  }
}
