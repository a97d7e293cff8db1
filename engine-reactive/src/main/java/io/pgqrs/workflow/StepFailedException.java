package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * A step failed for good: its attempts are used up or its error is not retryable. The failure is
 * recorded, so a replay fails the same way without running the step again. Unless the workflow
 * handles it, the run ends in {@link RunStatus#ERROR} with this message.
 */
public class StepFailedException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String stepId;
  private final int attempts;

  /**
   * Creates the exception.
   *
   * @param stepId the step
   * @param attempts how many times it was executed
   * @param error the recorded error
   */
  public StepFailedException(String stepId, int attempts, String error) {
    super("step '" + stepId + "' failed after " + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + error,
        null);
    this.stepId = stepId;
    this.attempts = attempts;
  }

  /**
   * The step.
   *
   * @return the step id
   */
  public String stepId() {
    return stepId;
  }

  /**
   * How many times the step was executed.
   *
   * @return the attempts
   */
  public int attempts() {
    return attempts;
  }
}
