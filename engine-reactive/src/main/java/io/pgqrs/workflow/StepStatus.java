package io.pgqrs.workflow;

/** The status of one recorded step of a workflow run. */
public enum StepStatus {
  /** A worker holds the step's lease and is executing it. */
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
