package io.pgqrs.internal;

import io.pgqrs.Store;

/** Reads engine internals that contract tests assert on but the public API does not expose. */
public final class EngineProbe {

  private EngineProbe() {}

  /**
   * How many runs the store's local workers took in their trigger statement (the local fast path).
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @return the count since the store was opened
   */
  public static long runsTakenByTrigger(Store store) {
    return ((WorkflowRuntime) store.runs()).runsTakenByTrigger();
  }

  /**
   * How many runs the store's workers began in the claim that took their message (one round trip).
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @return the count since the store was opened
   */
  public static long runsBegunInClaim(Store store) {
    return ((WorkflowRuntime) store.runs()).runsBegunInClaim();
  }

  /**
   * How many leases the store's consumers found lost while holding their message (each logged as a loss).
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}, or a {@link FaultyStore}'s
   * @return the count since the store was opened
   */
  public static long leaseLosses(Store store) {
    return ((Engine) store).leaseLosses();
  }

  /**
   * Fires the schedules due at a clock the test moves, as the scheduler's turn does at the store's.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @param now the clock
   * @return the scheduler's report
   */
  public static reactor.core.publisher.Mono<io.pgqrs.admin.SchedulerReport> fireSchedules(Store store,
      java.time.Instant now) {
    return ((MaintenanceServices) store.maintenance()).fireSchedules(now);
  }

  /**
   * Resumes a schedule from its first tick after a clock the test moves.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @param name the schedule
   * @param now the clock
   * @return the schedule after the change
   */
  public static reactor.core.publisher.Mono<io.pgqrs.schedule.ScheduleInfo> resumeSchedule(Store store, String name,
      java.time.Instant now) {
    return ((DefaultSchedules) store.schedules()).resume(name, now);
  }
}
