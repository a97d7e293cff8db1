package io.pgqrs.internal;

import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.RunStatus;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The run state machine, defined once: every change of a run's status is one of these guarded
 * transition tables, and the backends only apply them (a compare-and-set of the status column
 * against the table's sources). No backend decides a workflow rule of its own.
 *
 * <pre>
 *   QUEUED ──begin──▶ RUNNING ──complete/fail──▶ SUCCESS / ERROR
 *     │  ╲               │  ▲
 *     │   pause        pause resume (started)
 *     │     ╲            ▼  │
 *     │      ╲───────▶ PAUSED ──resume (never started)──▶ QUEUED
 *     │                  │
 *     └──cancel──────────┴──▶ CANCELLED (nobody holds the run) or CANCELLING (a worker holds it)
 *                                              CANCELLING ──any ending──▶ CANCELLED
 * </pre>
 *
 * <p>Not API: public for the drivers' conformance tests, which apply these very tables.
 */
public final class RunTransitions {

  private RunTransitions() {}

  private static StoreParams.Moves moves(Map<RunStatus, RunStatus> table) {
    return new StoreParams.Moves(List.copyOf(table.keySet()), List.copyOf(table.values()));
  }

  private static Map<RunStatus, RunStatus> table() {
    return new EnumMap<>(RunStatus.class);
  }

  /** A worker begins an execution: a queued run starts; a running one (resumed, retried) goes on. */
  public static final StoreParams.Moves BEGIN;

  /** A pause from outside or from the body. */
  public static final StoreParams.Moves PAUSE;

  /** A resume of a run that had begun executing before it was paused. */
  public static final StoreParams.Moves RESUME_STARTED;

  /** A resume of a run paused before any worker began it. */
  public static final StoreParams.Moves RESUME_UNSTARTED;

  /** A cancel while no worker holds the run: it ends now. */
  public static final StoreParams.Moves CANCEL_FREE;

  /** A cancel while a worker holds the run: the worker ends it at its next step boundary. */
  public static final StoreParams.Moves CANCEL_HELD;

  /** Statuses on which a pause changes nothing and is not an error. */
  public static final List<RunStatus> PAUSE_UNCHANGED = List.of(RunStatus.PAUSED);

  /** A waiting run in one of these statuses has work at once: it must end (see SuspendRun). */
  public static final List<RunStatus> WAKE_AT_ONCE = List.of(RunStatus.CANCELLING);

  /** A waiting run in one of these statuses waits for a resume, at most until its deadline. */
  public static final List<RunStatus> PARKED_UNTIL_RESUMED = List.of(RunStatus.PAUSED);

  /** An operator's restart of a run that failed or was cancelled: it is queued again, same id. */
  public static final StoreParams.Moves RESTART;

  /** The statuses of a run that may be forked: finished ones, whatever their outcome. */
  public static final List<RunStatus> FORKABLE = List.of(RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.CANCELLED);

  /** Statuses on which a cancel changes nothing and is not an error. */
  public static final List<RunStatus> CANCEL_UNCHANGED = List.of(RunStatus.CANCELLING, RunStatus.CANCELLED);

  /** The statuses of a parent whose cancel cancels its children: being cancelled, or cancelled. */
  public static final List<RunStatus> CASCADE_FROM = CANCEL_UNCHANGED;

  static {
    Map<RunStatus, RunStatus> begin = table();
    begin.put(RunStatus.QUEUED, RunStatus.RUNNING);
    begin.put(RunStatus.RUNNING, RunStatus.RUNNING);
    BEGIN = moves(begin);

    Map<RunStatus, RunStatus> pause = table();
    pause.put(RunStatus.QUEUED, RunStatus.PAUSED);
    pause.put(RunStatus.RUNNING, RunStatus.PAUSED);
    PAUSE = moves(pause);

    Map<RunStatus, RunStatus> resumed = table();
    resumed.put(RunStatus.PAUSED, RunStatus.RUNNING);
    RESUME_STARTED = moves(resumed);
    Map<RunStatus, RunStatus> unstarted = table();
    unstarted.put(RunStatus.PAUSED, RunStatus.QUEUED);
    RESUME_UNSTARTED = moves(unstarted);

    Map<RunStatus, RunStatus> free = table();
    free.put(RunStatus.QUEUED, RunStatus.CANCELLED);
    free.put(RunStatus.RUNNING, RunStatus.CANCELLED);
    free.put(RunStatus.PAUSED, RunStatus.CANCELLED);
    CANCEL_FREE = moves(free);
    Map<RunStatus, RunStatus> held = table();
    held.put(RunStatus.QUEUED, RunStatus.CANCELLING);
    held.put(RunStatus.RUNNING, RunStatus.CANCELLING);
    held.put(RunStatus.PAUSED, RunStatus.CANCELLING);
    CANCEL_HELD = moves(held);

    Map<RunStatus, RunStatus> restart = table();
    restart.put(RunStatus.ERROR, RunStatus.QUEUED);
    restart.put(RunStatus.CANCELLED, RunStatus.QUEUED);
    RESTART = moves(restart);
  }

  /**
   * A worker, or the run reaper, ends the run with {@code outcome} (SUCCESS, ERROR or CANCELLED):
   * an unfinished run takes it, except that a run being cancelled always ends CANCELLED.
   */
  public static StoreParams.Moves finish(RunStatus outcome) {
    if (outcome != RunStatus.SUCCESS && outcome != RunStatus.ERROR && outcome != RunStatus.CANCELLED) {
      throw new IllegalArgumentException("a run ends SUCCESS, ERROR or CANCELLED, not " + outcome);
    }
    Map<RunStatus, RunStatus> finish = table();
    finish.put(RunStatus.QUEUED, outcome);
    finish.put(RunStatus.RUNNING, outcome);
    finish.put(RunStatus.PAUSED, outcome);
    finish.put(RunStatus.CANCELLING, RunStatus.CANCELLED);
    return moves(finish);
  }

  /** The run reaper ends a run nobody will finish: with ERROR, or CANCELLED if it was being cancelled. */
  public static StoreParams.Moves reap() {
    return finish(RunStatus.ERROR);
  }

  /**
   * A pause from outside (or by the engine, with the reason recorded as the run's error).
   *
   * @param runId the run
   * @param reason the error to record, or null
   * @return the control
   */
  public static StoreParams.ControlRun pause(long runId, @org.jspecify.annotations.Nullable String reason) {
    return new StoreParams.ControlRun(runId, StoreParams.RunControl.PAUSE, PAUSE, null, null, PAUSE_UNCHANGED, reason,
        null);
  }

  /**
   * A resume: back to RUNNING, or QUEUED for a run no worker began.
   *
   * @param runId the run
   * @return the control
   */
  public static StoreParams.ControlRun resume(long runId) {
    return new StoreParams.ControlRun(runId, StoreParams.RunControl.RESUME, RESUME_STARTED, null, RESUME_UNSTARTED,
        List.of(), null, null);
  }

  /**
   * A cancel: CANCELLED at once when no worker holds the run, else CANCELLING.
   *
   * @param runId the run
   * @param reason the reason
   * @return the control
   */
  public static StoreParams.ControlRun cancel(long runId, String reason) {
    return control(runId, StoreParams.RunControl.CANCEL, reason, null);
  }

  /**
   * The control of an action, with the clock override of tests.
   *
   * @param runId the run
   * @param action the action
   * @param reason the cancel reason or the pause's error, or null
   * @param now the clock override, or null
   * @return the control
   */
  public static StoreParams.ControlRun control(long runId, StoreParams.RunControl action,
      @org.jspecify.annotations.Nullable String reason, java.time.@org.jspecify.annotations.Nullable Instant now) {
    StoreParams.ControlRun c = switch (action) {
      case PAUSE -> pause(runId, reason);
      case RESUME -> resume(runId);
      case CANCEL -> new StoreParams.ControlRun(runId, StoreParams.RunControl.CANCEL, CANCEL_FREE, CANCEL_HELD, null,
          CANCEL_UNCHANGED, reason, null);
    };
    return new StoreParams.ControlRun(c.runId(), c.action(), c.moves(), c.whenHeld(), c.whenUnstarted(), c.unchanged(),
        c.reason(), now);
  }
}
