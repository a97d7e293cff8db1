package io.pgqrs.workflow;

/** The status of one recorded step of a workflow run. */
public enum StepStatus {
  /**
   * Begun but not recorded: written only by versions before schema V006, whose steps had leases of
   * their own. A replay treats such a step as not recorded and executes it.
   */
  RUNNING,
  /** Recorded with its output; it is never executed again. */
  SUCCESS,
  /** Recorded as failed for good (attempts used up or a permanent error); replay fails the same way. */
  ERROR,
  /** Failed, with a retry due at {@link StepInfo#wakeAt()}. */
  RETRY,
  /** A durable sleep or a signal wait, due at {@link StepInfo#wakeAt()}. */
  WAITING
}
