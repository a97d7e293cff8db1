package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * A replay reached a step whose record was written by different code: at the same position in the
 * run, the history holds a step of another name. Taking the recorded value would hand one step's
 * result to another, so the execution stops instead and the run is paused with this message as its
 * error, visible in {@link RunInfo#status()} and {@link RunInfo#error()}. Deploy code that takes the
 * old path for old runs ({@link RunContext#patched(String)}, or a new
 * {@link WorkflowDefinition#withVersion version}) and resume the run, or cancel it.
 */
public class NondeterminismException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String position;
  private final String recorded;
  private final String called;

  /**
   * Creates the exception.
   *
   * @param runId the run
   * @param position the step's position in the run
   * @param recorded the step identity the history holds there
   * @param called the step identity the code asked for there
   */
  public NondeterminismException(long runId, String position, String recorded, String called) {
    super("nondeterministic replay of run " + runId + ": at position " + position + " the history holds step '"
        + recorded + "' but the code asks for step '" + called + "'", null);
    this.position = position;
    this.recorded = recorded;
    this.called = called;
  }

  /**
   * The step's position in the run.
   *
   * @return the position
   */
  public String position() {
    return position;
  }

  /**
   * The step identity the history holds at that position.
   *
   * @return the recorded step id
   */
  public String recorded() {
    return recorded;
  }

  /**
   * The step identity the code asked for at that position.
   *
   * @return the step id in code
   */
  public String called() {
    return called;
  }
}
