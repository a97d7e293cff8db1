package io.pgqrs.workflow;

/**
 * The status of a workflow run. Transitions are guarded in the store: a finished run
 * ({@link #SUCCESS}, {@link #ERROR}, {@link #CANCELLED}) is never reopened, and a run being
 * cancelled never becomes {@link #SUCCESS}.
 */
public enum RunStatus {
  /** Triggered; no worker has begun it yet. */
  QUEUED,
  /** A worker has begun it; it may be executing, sleeping, waiting for a signal or a retry. */
  RUNNING,
  /** Paused from outside; it goes no further than its next step boundary until resumed. */
  PAUSED,
  /** Finished with an output. */
  SUCCESS,
  /** Finished with an error: a failed step, an error of the workflow itself, or its timeout. */
  ERROR,
  /** Cancel requested while a worker held it; it ends at its next step boundary. */
  CANCELLING,
  /** Cancelled; the reason is recorded. */
  CANCELLED;

  /**
   * Whether the run has finished and will never change again.
   *
   * @return true for SUCCESS, ERROR and CANCELLED
   */
  public boolean isFinished() {
    return this == SUCCESS || this == ERROR || this == CANCELLED;
  }
}
