package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * One run used a step name at two different places in the code. Steps are identified by name (and
 * call order for repeated calls from the same place), so two different bodies under one name would
 * make replay return one body's recorded value to the other. Give each step its own name.
 */
public class StepConflictException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String stepName;

  /**
   * Creates the exception.
   *
   * @param stepName the reused name
   * @param first where it was first used
   * @param second where it was used again
   */
  public StepConflictException(String stepName, String first, String second) {
    super("step name '" + stepName + "' is used by different code in one run (" + first + " and " + second
        + "); give each step its own name", null);
    this.stepName = stepName;
  }

  /**
   * The reused name.
   *
   * @return the step name
   */
  public String stepName() {
    return stepName;
  }
}
