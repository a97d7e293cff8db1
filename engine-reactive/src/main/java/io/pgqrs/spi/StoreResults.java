package io.pgqrs.spi;

import io.pgqrs.PgqrsPermanentException;
import io.pgqrs.queue.Message;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Results of {@link StoreDriver} operations that need more than a value type of the public API. */
public final class StoreResults {

  private StoreResults() {}

  /**
   * What enqueue did for one input row.
   *
   * @param id the message id
   * @param inserted false when a live message with the same dedup key existed and its id is returned
   */
  public record Enqueued(long id, boolean inserted) {}

  /**
   * What one claim did.
   *
   * @param claimed messages now leased to the caller
   * @param deadLettered messages that had used their attempts and were moved to the dead state
   * @param untilNextVisible what the claim left: zero when a live message it did not take is
   *     visible now (one another claimer holds counts too), else how long until the first such
   *     message is visible by the store's clock; null when none is live
   */
  public record Claimed(List<Message> claimed, List<Message> deadLettered, @Nullable Duration untilNextVisible) {
    /** Copies the lists. */
    public Claimed {
      claimed = List.copyOf(claimed);
      deadLettered = List.copyOf(deadLettered);
    }

    /**
     * A claim that left no live message.
     *
     * @param claimed messages now leased to the caller
     * @param deadLettered messages moved to the dead state
     */
    public Claimed(List<Message> claimed, List<Message> deadLettered) {
      this(claimed, deadLettered, null);
    }
  }

  /**
   * What a workflow worker's claim did (see {@link StoreParams.ClaimRuns}).
   *
   * @param claimed what the claim did
   * @param begun the runs begun in the claim, by the id of the claimed message that carries each;
   *     a claimed message without an entry has its run still to begin
   */
  public record ClaimedRuns(Claimed claimed, java.util.Map<Long, RunBegun> begun) {
    /** Copies the map. */
    public ClaimedRuns {
      begun = java.util.Map.copyOf(begun);
    }
  }

  /**
   * What {@link StoreDriver#claimAndSettle} did.
   *
   * @param claimed the claim's result
   * @param settled one result per settle, in input order
   */
  public record ClaimedAndSettled(Claimed claimed, List<Settled> settled) {
    /** Copies the list. */
    public ClaimedAndSettled {
      settled = List.copyOf(settled);
    }
  }

  /** Outcome of deleting a queue. */
  public sealed interface QueueDeletion {}

  /** The queue was deleted. */
  public record QueueDeleted() implements QueueDeletion {}

  /** There is no such queue. */
  public record QueueMissing() implements QueueDeletion {}

  /**
   * Deletion was refused.
   *
   * @param liveMessages live messages of the queue
   * @param activeWorkers workers of the queue not stopped
   */
  public record QueueInUse(long liveMessages, long activeWorkers) implements QueueDeletion {}

  /** Outcome of stopping a worker. */
  public sealed interface WorkerShutdown {}

  /**
   * The worker is stopped.
   *
   * @param released how many leases were released
   */
  public record WorkerStopped(long released) implements WorkerShutdown {}

  /** There is no such worker. */
  public record WorkerMissing() implements WorkerShutdown {}

  /**
   * Refused: the worker holds leases.
   *
   * @param leases how many unexpired leases it holds
   */
  public record WorkerBusy(long leases) implements WorkerShutdown {}

  /**
   * Whether a maintenance turn was taken.
   *
   * @param taken false when the turn was not due (and not forced) or another instance was taking it
   * @param at the store's clock when the turn was taken or looked at
   */
  public record TurnTaken(boolean taken, Instant at) {}

  /**
   * The schedule of one maintenance service.
   *
   * @param service the service's name
   * @param nextDueAt when its next turn is due
   * @param lastTakenAt when its last turn was taken, or null if never
   * @param lastInstance the instance that took it, or null if never
   * @param turns how many turns were taken so far
   */
  public record MaintenanceSchedule(
      String service, Instant nextDueAt, @Nullable Instant lastTakenAt, @Nullable String lastInstance, long turns) {}

  /**
   * What one batch of the lease rescuer did.
   *
   * @param workersStopped stale workers marked stopped
   * @param messagesReleased their unexpired leases released, claimable at once
   * @param queuesWoken the queues of the released messages, whose consumers were woken
   */
  public record WorkersRescued(long workersStopped, long messagesReleased, List<String> queuesWoken) {
    /** Copies the list. */
    public WorkersRescued {
      queuesWoken = List.copyOf(queuesWoken);
    }
  }

  /**
   * What one batch of the finished-run purge deleted.
   *
   * @param runs finished runs deleted
   * @param steps their steps
   * @param signals their signals
   */
  public record FinishedRunsPurged(long runs, long steps, long signals) {}

  // ---------------------------------------------------------------- workflows

  /**
   * What triggering did.
   *
   * @param runId the run
   * @param created false when a run with the same idempotency key existed and is returned
   * @param leased with {@link StoreParams.TriggerRun#leaseTo()} and a created run: the run's message,
   *     leased to the worker as a claim would return it; else null
   * @param begun with {@code leased}: the run as begun by the trigger (RUNNING, first attempt, no
   *     steps), so the worker need not read it; else null
   */
  public record Triggered(long runId, boolean created, @Nullable Message leased, @Nullable RunBegun begun) {

    /**
     * A run enqueued for any worker, or found by its idempotency key.
     *
     * @param runId the run
     * @param created whether it was created
     */
    public Triggered(long runId, boolean created) {
      this(runId, created, null, null);
    }
  }

  /**
   * A run a worker has begun (see {@link StoreParams.BeginRun}).
   *
   * @param run the run after the change
   * @param untilDeadline how long the run has until its deadline, computed by the store's clock in
   *     the same statement that began it: zero once the deadline has passed, null when the run has
   *     no deadline. The engine times the run out on its own timer after this long, so it never
   *     compares the recorded deadline with the JVM's clock.
   * @param history the run's recorded steps with status SUCCESS, ERROR, RETRY or WAITING, in
   *     completion order and then position order
   */
  public record RunBegun(RunInfo run, @Nullable Duration untilDeadline, List<StepRecord> history) {

    /**
     * Creates the result.
     *
     * @param run the run
     * @param untilDeadline the time left, or null
     * @param history the recorded steps
     */
    public RunBegun {
      history = List.copyOf(history);
    }
  }

  /**
   * One recorded step, as a replay needs it.
   *
   * @param position the step's identity in the run
   * @param stepId its readable identity (name based)
   * @param status SUCCESS, ERROR, RETRY or WAITING
   * @param outputJson the output of a SUCCESS, or null for an empty one
   * @param outputType the Java class recorded with the output, or null
   * @param error the error of ERROR or RETRY, or null
   * @param attempts how many times its body ran
   * @param untilWake with RETRY and WAITING, how long until the recorded due time by the store's
   *     clock when the run was begun (zero once passed); else null
   * @param awaiting the signal a WAITING step waits for, or null
   * @param completion the completion order recorded with it (0 for RETRY and WAITING)
   * @param signalled with WAITING, whether a signal it waits for was sent and not yet consumed when
   *     the run was begun; else false. A driver that cannot tell says false: the engine then looks
   *     for the signal when the wait's due time comes
   */
  public record StepRecord(
      String position, String stepId, StepStatus status, @Nullable String outputJson, @Nullable String outputType,
      @Nullable String error, int attempts, @Nullable Duration untilWake, @Nullable String awaiting, int completion,
      boolean signalled) {

    /**
     * A step record not known to be signalled.
     *
     * @param position as above
     * @param stepId as above
     * @param status as above
     * @param outputJson as above
     * @param outputType as above
     * @param error as above
     * @param attempts as above
     * @param untilWake as above
     * @param awaiting as above
     * @param completion as above
     */
    public StepRecord(String position, String stepId, StepStatus status, @Nullable String outputJson,
        @Nullable String outputType, @Nullable String error, int attempts, @Nullable Duration untilWake,
        @Nullable String awaiting, int completion) {
      this(position, stepId, status, outputJson, outputType, error, attempts, untilWake, awaiting, completion, false);
    }
  }

  /** What one settle of a {@link StoreParams.SettleMany} found. */
  public enum Settled {
    /** The lease was held and the settle was applied. */
    APPLIED,
    /**
     * Nothing changed: the lease is no longer held (wrong token, expired, message settled, unknown,
     * or named by an earlier settle of the same batch).
     */
    NOT_HELD,
    /**
     * An ARCHIVE found its message already archived under that very lease token (an earlier
     * archive of this lease whose answer was lost); nothing changed.
     */
    ALREADY_ARCHIVED
  }

  /**
   * What finishing one run of a {@link StoreParams.FinishRuns} found.
   *
   * @param runId the run
   * @param status the status the run ended with (CANCELLED for a run that was CANCELLING), or null
   *     when nothing changed: the run had already finished or is gone, or its lease was lost
   */
  public record RunFinished(long runId, @Nullable RunStatus status) {}

  /**
   * A child that its parent's cancel should have cancelled (see {@link
   * StoreParams.CancelledParentsChildren}).
   *
   * @param childRunId the child
   * @param parentRunId its parent, cancelled or being cancelled
   */
  public record UncancelledChild(long childRunId, long parentRunId) {}

  /**
   * What writing one step record found.
   *
   * @param written whether the record was written: false when the run's message lease no longer
   *     holds, the run has finished or is gone, or the step was already recorded SUCCESS or ERROR
   *     (nothing changed)
   * @param runStatus the run's status as the statement saw it, or null when the run is gone
   */
  public record StepWritten(boolean written, @Nullable RunStatus runStatus) {}

  /**
   * What taking a signal found.
   *
   * @param valueJson the signal's value, or null when none is pending
   * @param leaseHeld false when the run's message lease no longer holds (nothing was taken)
   */
  public record SignalTaken(@Nullable String valueJson, boolean leaseHeld) {}

  /**
   * One row of a queue's archived counts per interval (see {@link StoreParams.ThroughputQuery}).
   *
   * @param now the store's now the window ends at, the same on every row of one read
   * @param bucket the interval's index, 0 the oldest; null on the single row of a window in which
   *     nothing was archived
   * @param archived messages archived in that interval
   */
  public record ArchivedBucket(Instant now, @Nullable Long bucket, long archived) {}

  /**
   * One signal of a run, as stored.
   *
   * @param id the signal's id, growing in the order signals were sent
   * @param runId the run
   * @param name the signal's name
   * @param valueJson the value as JSON
   * @param sentAt when it was sent, by the store's clock
   * @param consumedBy the readable identity of the step that took it, null while pending
   */
  public record RunSignal(long id, long runId, String name, String valueJson, Instant sentAt,
      @Nullable String consumedBy) {}

  /**
   * One event of a run, as stored.
   *
   * @param runId the run
   * @param seq its sequence number: unique in the store, growing with the commits of the run's events
   * @param key the event's key
   * @param valueJson the value as JSON
   * @param createdAt when it was recorded, by the store's clock
   */
  public record RunEvent(long runId, long seq, String key, String valueJson, Instant createdAt) {}

  /** A transactional step found the run's lease gone; the work and the record were rolled back. */
  public static final class StepLeaseLost extends io.pgqrs.PgqrsPermanentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param stepId the step
     */
    public StepLeaseLost(String stepId) {
      super("the run's lease was lost while recording step '" + stepId + "'; its transaction was rolled back", null);
    }
  }

  // ---------------------------------------------------------------- schedules

  /**
   * The schedules due at the store's clock.
   *
   * @param now the store's clock when it looked
   * @param due the due schedules (not paused, next tick at or before {@code now}), earliest first
   * @param untilNextFire how long from {@code now} until the earliest next tick still ahead of it of
   *     a schedule that is not paused, or null when there is none
   */
  public record DueSchedules(Instant now, List<io.pgqrs.schedule.ScheduleInfo> due, @Nullable Duration untilNextFire) {}

  /**
   * What firing a schedule's ticks did.
   *
   * @param advanced whether this call moved the schedule on (false: another engine fired those
   *     ticks first, or the schedule was paused or deleted meanwhile; nothing was created)
   * @param created how many runs or messages were created (a tick whose key was already used
   *     creates none)
   */
  public record ScheduleFired(boolean advanced, int created) {}

  /**
   * A schedule row as the drivers read it, mapped once for every backend.
   *
   * @param name the name
   * @param cron the cron expression
   * @param zone the zone id
   * @param targetKind {@code workflow} or {@code queue}
   * @param target the workflow's or queue's name
   * @param version the workflow version, or null
   * @param payloadJson the input or payload, as JSON text
   * @param timeoutMillis the run timeout in milliseconds, or null
   * @param missedMax the missed-tick bound
   * @param paused the paused flag
   * @param nextFireAt the next tick
   * @param lastFiredAt the newest tick fired, or null
   * @param createdAt when it was created
   * @param updatedAt when it last changed
   * @return the schedule
   */
  public static io.pgqrs.schedule.ScheduleInfo schedule(String name, String cron, String zone, String targetKind,
      String target, @Nullable String version, String payloadJson, @Nullable Long timeoutMillis, int missedMax,
      boolean paused, Instant nextFireAt, @Nullable Instant lastFiredAt, Instant createdAt, Instant updatedAt) {
    com.fasterxml.jackson.databind.JsonNode payload = io.pgqrs.internal.Json.parse(payloadJson);
    io.pgqrs.schedule.ScheduleTarget t = "workflow".equals(targetKind)
        ? new io.pgqrs.schedule.ScheduleTarget.Workflow(target, version, payload,
            timeoutMillis == null ? null : Duration.ofMillis(timeoutMillis))
        : new io.pgqrs.schedule.ScheduleTarget.Queue(target, payload);
    return new io.pgqrs.schedule.ScheduleInfo(name, cron, java.time.ZoneId.of(zone), t,
        new io.pgqrs.schedule.MissedTicks(missedMax), paused, nextFireAt, lastFiredAt, createdAt, updatedAt);
  }
}
