package io.pgqrs.workflow;

/**
 * A child run started with {@link RunContext#child} ended in {@link RunStatus#ERROR} or
 * {@link RunStatus#CANCELLED}; {@link #runId()} is the child's run, {@link #status()} how it ended,
 * {@link #error()} its recorded error or cancel reason. The outcome is recorded in the parent, so a
 * replay of the parent fails the same way.
 */
public class ChildWorkflowFailedException extends WorkflowFailedException {

  private static final long serialVersionUID = 1L;

  private final long parentRunId;

  /**
   * Creates the exception.
   *
   * @param parentRunId the parent run
   * @param childRunId the child run
   * @param status ERROR or CANCELLED
   * @param error the child's recorded error or cancel reason
   */
  public ChildWorkflowFailedException(long parentRunId, long childRunId, RunStatus status, String error) {
    super(childRunId, status, error);
    this.parentRunId = parentRunId;
  }

  /**
   * The run that started the child.
   *
   * @return the parent run id
   */
  public long parentRunId() {
    return parentRunId;
  }
}
