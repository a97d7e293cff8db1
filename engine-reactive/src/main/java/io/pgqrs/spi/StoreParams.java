package io.pgqrs.spi;

import io.pgqrs.queue.MessageState;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The immutable parameter records of {@link StoreDriver} operations. Inputs are already checked by
 * the engine (names valid, limits positive, payloads validated and serialized). Each record carries
 * an optional {@code now}: null means the database's clock, a value overrides it so tests can move
 * time without sleeping.
 */
public final class StoreParams {

  private StoreParams() {}

  /**
   * Creates a queue.
   *
   * @param queue the queue name
   * @param maxAttempts deliveries before dead-lettering
   * @param maxLeased the most messages of the queue leased at once, or null for no limit
   * @param maxClaimsPerSecond the most messages of the queue claimed per second, or null for no limit
   * @param now the clock override, or null
   * @param maxLeasedPerKey the most messages of one group key leased at once (claimed round-robin
   *     across keys), or null for none
   */
  public record CreateQueue(String queue, int maxAttempts, @Nullable Integer maxLeased,
      @Nullable Integer maxClaimsPerSecond, @Nullable Instant now, @Nullable Integer maxLeasedPerKey) {
    /**
     * A queue without a per-key limit.
     *
     * @param queue the queue name
     * @param maxAttempts deliveries before dead-lettering
     * @param maxLeased the most messages leased at once, or null
     * @param maxClaimsPerSecond the most messages claimed per second, or null
     * @param now the clock override, or null
     */
    public CreateQueue(String queue, int maxAttempts, @Nullable Integer maxLeased,
        @Nullable Integer maxClaimsPerSecond, @Nullable Instant now) {
      this(queue, maxAttempts, maxLeased, maxClaimsPerSecond, now, null);
    }

    /**
     * A queue without a concurrency limit.
     *
     * @param queue the queue name
     * @param maxAttempts deliveries before dead-lettering
     * @param now the clock override, or null
     */
    public CreateQueue(String queue, int maxAttempts, @Nullable Instant now) {
      this(queue, maxAttempts, null, null, now, null);
    }
  }

  /**
   * Changes a queue's options.
   *
   * @param queue the queue name
   * @param maxAttempts the new max attempts, or null to keep the queue's
   * @param maxLeased the new concurrency limit (the most messages leased at once), or null for none
   * @param maxClaimsPerSecond the new claim rate limit, or null for none; a changed rate starts
   *     with a full bucket (one second's claims)
   * @param maxLeasedPerKey the new per-key limit, or null for none
   */
  public record ConfigureQueue(String queue, @Nullable Integer maxAttempts, @Nullable Integer maxLeased,
      @Nullable Integer maxClaimsPerSecond, @Nullable Integer maxLeasedPerKey) {
    /**
     * Changes the options but the per-key limit, which it removes.
     *
     * @param queue the queue name
     * @param maxAttempts the new max attempts, or null to keep the queue's
     * @param maxLeased the new concurrency limit, or null for none
     * @param maxClaimsPerSecond the new claim rate limit, or null for none
     */
    public ConfigureQueue(String queue, @Nullable Integer maxAttempts, @Nullable Integer maxLeased,
        @Nullable Integer maxClaimsPerSecond) {
      this(queue, maxAttempts, maxLeased, maxClaimsPerSecond, null);
    }

    /**
     * Changes the max attempts and the concurrency limit, and removes any claim rate limit.
     *
     * @param queue the queue name
     * @param maxAttempts the new max attempts, or null to keep the queue's
     * @param maxLeased the new concurrency limit, or null for none
     */
    public ConfigureQueue(String queue, @Nullable Integer maxAttempts, @Nullable Integer maxLeased) {
      this(queue, maxAttempts, maxLeased, null, null);
    }
  }

  /**
   * Deletes a queue.
   *
   * @param queue the queue name
   * @param force delete even with live messages or active workers
   */
  public record DeleteQueue(String queue, boolean force) {}

  /**
   * One message to insert.
   *
   * @param payloadJson the payload, serialized JSON object text
   * @param delay delay relative to the store's now, or null
   * @param visibleAt absolute visibility, or null (at most one of delay and visibleAt is set)
   * @param dedupKey dedup key, or null
   * @param priority priority
   * @param groupKey the group key, or null
   * @param headersJson the message's headers as a serialized JSON object of strings, or null for none
   */
  public record NewRow(
      String payloadJson, @Nullable Duration delay, @Nullable Instant visibleAt, @Nullable String dedupKey,
      int priority, @Nullable String groupKey, @Nullable String headersJson) {
    /**
     * A row without headers.
     *
     * @param payloadJson the payload, serialized JSON object text
     * @param delay delay relative to the store's now, or null
     * @param visibleAt absolute visibility, or null
     * @param dedupKey dedup key, or null
     * @param priority priority
     * @param groupKey the group key, or null
     */
    public NewRow(String payloadJson, @Nullable Duration delay, @Nullable Instant visibleAt,
        @Nullable String dedupKey, int priority, @Nullable String groupKey) {
      this(payloadJson, delay, visibleAt, dedupKey, priority, groupKey, null);
    }

    /**
     * A row without a group key.
     *
     * @param payloadJson the payload, serialized JSON object text
     * @param delay delay relative to the store's now, or null
     * @param visibleAt absolute visibility, or null
     * @param dedupKey dedup key, or null
     * @param priority priority
     */
    public NewRow(String payloadJson, @Nullable Duration delay, @Nullable Instant visibleAt,
        @Nullable String dedupKey, int priority) {
      this(payloadJson, delay, visibleAt, dedupKey, priority, null, null);
    }
  }

  /**
   * Inserts messages, all or none.
   *
   * @param queue the queue name
   * @param rows one or more rows
   * @param now the clock override, or null
   */
  public record Enqueue(String queue, List<NewRow> rows, @Nullable Instant now) {
    /** Copies the list. */
    public Enqueue {
      rows = List.copyOf(rows);
    }
  }

  /**
   * Claims messages.
   *
   * @param queue the queue name
   * @param limit the most messages to claim
   * @param lease the lease length
   * @param workerId the lease owner, or null
   * @param now the clock override, or null
   */
  public record Claim(String queue, int limit, Duration lease, @Nullable Long workerId, @Nullable Instant now) {}

  /**
   * A workflow worker's claim: messages claimed as {@link Claim} says, and the runs they carry
   * begun as {@link BeginRun} says, in one round trip where the backend allows. A run the backend
   * cannot begin at once (its row is locked, it is missing, or the payload names no run) is left
   * alone: its message is claimed all the same and comes back without a begun run.
   *
   * @param claim the claim
   * @param begin the state machine's "begin" table
   */
  public record ClaimRuns(Claim claim, Moves begin) {}

  /**
   * A lease operation target.
   *
   * @param messageId the message
   * @param token the lease token
   * @param now the clock override, or null
   */
  public record LeaseRef(long messageId, UUID token, @Nullable Instant now) {}

  /**
   * Archives several leased messages.
   *
   * @param leases the leases
   * @param now the clock override, or null
   */
  public record ArchiveMany(List<LeaseRef> leases, @Nullable Instant now) {
    /** Copies the list. */
    public ArchiveMany {
      leases = List.copyOf(leases);
    }
  }

  /** What a {@link Settle} does with its message. */
  public enum SettleKind {
    /** Archives it, keeping its lease token on the archived row. */
    ARCHIVE,
    /** Deletes it. */
    DELETE,
    /** Gives it back: claimable again after {@link Settle#delay()}, with {@link Settle#error()} recorded if given. */
    RELEASE,
    /** Moves it to the dead state with {@link Settle#error()} recorded. */
    DEAD_LETTER
  }

  /**
   * One settle of a {@link SettleMany}: what to do with a leased message, fenced by that lease.
   *
   * @param kind what to do
   * @param messageId the leased message
   * @param token the lease's token: the fence
   * @param delay with RELEASE, how long until the message is claimable again (not negative); else null
   * @param error with RELEASE, the error to record or null to keep the previous one; with
   *     DEAD_LETTER, the error to record; else null
   */
  public record Settle(SettleKind kind, long messageId, UUID token, @Nullable Duration delay, @Nullable String error) {
    /** Checks that each kind has what it needs. */
    public Settle {
      java.util.Objects.requireNonNull(kind, "kind");
      java.util.Objects.requireNonNull(token, "token");
      if (kind == SettleKind.RELEASE && delay == null) {
        throw new IllegalArgumentException("a release needs its delay");
      }
      if (kind == SettleKind.DEAD_LETTER && error == null) {
        throw new IllegalArgumentException("a dead letter needs its error");
      }
    }

    /**
     * An archive.
     *
     * @param messageId the message
     * @param token its lease token
     * @return the settle
     */
    public static Settle archive(long messageId, UUID token) {
      return new Settle(SettleKind.ARCHIVE, messageId, token, null, null);
    }

    /**
     * A delete.
     *
     * @param messageId the message
     * @param token its lease token
     * @return the settle
     */
    public static Settle delete(long messageId, UUID token) {
      return new Settle(SettleKind.DELETE, messageId, token, null, null);
    }

    /**
     * A release.
     *
     * @param messageId the message
     * @param token its lease token
     * @param delay how long until it is claimable again
     * @param error the error to record, or null to keep the previous one
     * @return the settle
     */
    public static Settle release(long messageId, UUID token, Duration delay, @Nullable String error) {
      return new Settle(SettleKind.RELEASE, messageId, token, delay, error);
    }

    /**
     * A dead letter.
     *
     * @param messageId the message
     * @param token its lease token
     * @param error the error to record
     * @return the settle
     */
    public static Settle deadLetter(long messageId, UUID token, String error) {
      return new Settle(SettleKind.DEAD_LETTER, messageId, token, null, error);
    }
  }

  /**
   * Settles several leased messages at once, each by its own kind and fenced by its own lease.
   *
   * @param settles the settles, in the order their results come back
   * @param now the clock override, or null
   */
  public record SettleMany(List<Settle> settles, @Nullable Instant now) {
    /** Copies the list. */
    public SettleMany {
      settles = List.copyOf(settles);
    }
  }

  /**
   * Releases a lease.
   *
   * @param lease the lease
   * @param delay delay before the message is claimable again
   * @param error the error to record, or null
   */
  public record Release(LeaseRef lease, Duration delay, @Nullable String error) {}

  /**
   * Extends a lease.
   *
   * @param lease the lease
   * @param duration the new remaining length
   */
  public record Extend(LeaseRef lease, Duration duration) {}

  /**
   * One lease to extend in an {@link ExtendMany}.
   *
   * @param messageId the leased message
   * @param token the lease's token: the fence
   * @param duration how long the lease lasts from the store's now on
   */
  public record LeaseExtension(long messageId, UUID token, Duration duration) {}

  /**
   * Extends several leases in one statement, each by its own duration from the store's clock.
   *
   * @param leases the leases
   * @param now the clock override, or null
   */
  public record ExtendMany(List<LeaseExtension> leases, @Nullable Instant now) {
    /** Copies the list. */
    public ExtendMany {
      leases = List.copyOf(leases);
    }
  }

  /**
   * Dead-letters a leased message.
   *
   * @param lease the lease
   * @param error the error to record
   */
  public record DeadLetter(LeaseRef lease, String error) {}

  /**
   * Lists messages of one state.
   *
   * @param queue the queue name
   * @param state the state
   * @param afterId list ids greater than this
   * @param limit the page size
   */
  public record ListMessages(String queue, MessageState state, long afterId, int limit) {}

  /**
   * Replays dead messages.
   *
   * @param queue the queue name
   * @param ids the ids, or null for every dead message of the queue
   * @param now the clock override, or null
   */
  public record Replay(String queue, @Nullable List<Long> ids, @Nullable Instant now) {
    /** Copies the list. */
    public Replay {
      ids = ids == null ? null : List.copyOf(ids);
    }
  }

  /**
   * Deletes messages of one state.
   *
   * @param queue the queue name
   * @param state {@link MessageState#ARCHIVED} or {@link MessageState#DEAD}
   * @param olderThan only messages that entered the state longer ago than this, or null for all
   * @param limit the most rows to delete in this call, or 0 for no bound
   * @param now the clock override, or null
   */
  public record PurgeMessages(
      String queue, MessageState state, @Nullable Duration olderThan, int limit, @Nullable Instant now) {}

  /**
   * Registers a worker.
   *
   * @param name the unique name
   * @param queue the queue, or null
   * @param hostname the host
   * @param pid the process id
   * @param now the clock override, or null
   */
  public record RegisterWorker(
      String name, @Nullable String queue, String hostname, long pid, @Nullable Instant now) {}

  /**
   * Changes a worker's status.
   *
   * @param workerId the worker
   * @param status the new status ({@link WorkerStatus#READY} or {@link WorkerStatus#SUSPENDED})
   */
  public record SetWorkerStatus(long workerId, WorkerStatus status) {}

  /**
   * Stops a worker.
   *
   * @param workerId the worker
   * @param releaseLeases release its leases instead of refusing
   * @param now the clock override, or null
   */
  public record ShutdownWorker(long workerId, boolean releaseLeases, @Nullable Instant now) {}

  /**
   * Records a heartbeat.
   *
   * @param workerId the worker
   * @param now the clock override, or null
   */
  public record Heartbeat(long workerId, @Nullable Instant now) {}

  /**
   * Judges worker health.
   *
   * @param staleAfter heartbeat age beyond which a worker is stale
   * @param now the clock override, or null
   */
  public record WorkerHealthQuery(Duration staleAfter, @Nullable Instant now) {}

  /**
   * Counts a queue's archived messages per interval of a window ending at the store's now: the
   * interval of a message archived at {@code t} is {@code floor((t - (now - window) - 1µs) / bucket)},
   * for {@code now - window < t <= now}: each interval is {@code (start, end]}.
   *
   * @param queue the queue
   * @param window the window's length, positive
   * @param bucket each interval's length, positive
   * @param now the clock override, or null
   */
  public record ThroughputQuery(String queue, Duration window, Duration bucket, @Nullable Instant now) {}

  /**
   * Reads queue metrics.
   *
   * @param queue one queue, or null for all
   * @param now the clock override, or null
   */
  public record MetricsQuery(@Nullable String queue, @Nullable Instant now) {}

  /**
   * Takes a maintenance service's turn if it is due (or forced) and no other instance is taking it.
   *
   * @param service the service's name, the key of its schedule row
   * @param instance who takes the turn, recorded on the row (host, process and engine)
   * @param interval how long after this turn the next one is due; zero makes it due at once
   * @param force take the turn even if it is not due yet (still not taken while another instance
   *     is taking it at that moment)
   * @param now the clock override, or null
   */
  public record MaintenanceTurn(
      String service, String instance, Duration interval, boolean force, @Nullable Instant now) {}

  /**
   * One batch of the lease rescuer.
   *
   * @param staleAfter heartbeat age beyond which a ready or suspended worker is stopped
   * @param limit the most workers to stop in this batch, at least 1
   * @param now the clock override, or null
   */
  public record RescueStaleWorkers(Duration staleAfter, int limit, @Nullable Instant now) {}

  /**
   * One batch of a retention purge.
   *
   * @param olderThan the retention: rows that reached their final state before {@code now - olderThan}
   *     are purged
   * @param limit the most rows to purge in this batch, at least 1
   * @param now the clock override, or null
   */
  public record PurgeBatch(Duration olderThan, int limit, @Nullable Instant now) {}

  /**
   * One batch of the run reaper.
   *
   * @param limit the most runs to end in this batch, at least 1
   * @param moves how an ended run's status moves (the state machine's "finish with ERROR" table):
   *     only runs whose status is a source are reaped
   * @param now the clock override, or null
   */
  public record ReapRuns(int limit, Moves moves, @Nullable Instant now) {}

  /**
   * One batch of the run reaper's cascade repair: children whose parent's cancel should have
   * cancelled them and did not (the engine that cancelled the parent stopped between the parent's
   * cancel and its children's, or the child was created while the parent's cancel was cascading).
   *
   * @param limit the most children, at least 1
   * @param parentStatuses the statuses of a parent whose cancel cancels its children (the state
   *     machine's cancelled and being-cancelled states)
   * @param childStatuses the statuses of a child that a cancel moves and that no cancel has reached
   *     yet
   */
  public record CancelledParentsChildren(int limit, List<RunStatus> parentStatuses, List<RunStatus> childStatuses) {}

  // ---------------------------------------------------------------- workflows

  /**
   * A guarded transition table of run statuses, decided by the engine's run state machine: a run
   * whose status is {@code from.get(i)} moves to {@code to.get(i)}; a run in any other status does
   * not move. Backends apply it as one compare-and-set of the status column against {@code from},
   * and decide no transition of their own.
   *
   * @param from the statuses that move, distinct
   * @param to their targets, one per source
   */
  public record Moves(List<RunStatus> from, List<RunStatus> to) {

    /**
     * Creates a table.
     *
     * @param from the sources
     * @param to the targets
     * @throws IllegalArgumentException if the lists differ in length or a source repeats
     */
    public Moves {
      from = List.copyOf(from);
      to = List.copyOf(to);
      if (from.size() != to.size() || from.stream().distinct().count() != from.size()) {
        throw new IllegalArgumentException("a transition table needs one target per distinct source: " + from + " -> " + to);
      }
    }

    /**
     * The target of a status.
     *
     * @param status the current status
     * @return the status it moves to, or null when it does not move
     */
    public @Nullable RunStatus target(RunStatus status) {
      int i = from.indexOf(status);
      return i < 0 ? null : to.get(i);
    }
  }

  /**
   * Registers a workflow: creates its queue (named like the workflow) if absent, and the queue of
   * the definition's version when it has one, and records the workflow. Idempotent.
   *
   * @param workflow the workflow name, which is also its queue's name
   * @param versionQueue the queue of the version's runs ({@code workflow@version}), or null for an
   *     unversioned definition, whose runs use the workflow's queue
   * @param maxAttempts the queues' max deliveries, used only when a queue is created
   * @param now the clock, or null for the database's
   */
  public record RegisterWorkflow(String workflow, @Nullable String versionQueue, int maxAttempts,
      @Nullable Instant now) {}

  /**
   * The lease a trigger takes on the run's new message for a worker of this engine (the local
   * fast path): the message is inserted already leased, as a claim would leave it (one delivery,
   * invisible until the lease ends), and the run inserted RUNNING with its first attempt begun.
   * No wake-up is sent, since no other consumer needs one.
   *
   * @param workerId the worker that holds the lease
   * @param lease how long the lease lasts from the store's now
   */
  public record LeaseTaking(long workerId, Duration lease) {}

  /**
   * Creates a run and its trigger message in one transaction, unless a run of the workflow with the
   * same idempotency key exists.
   *
   * @param workflow the workflow
   * @param queue the queue of the run's message: the workflow's, or its version's
   * @param version the definition's version recorded on the run, or null
   * @param inputJson the input, serialized
   * @param idempotencyKey the key, or null
   * @param timeout how long the run may take from now before it fails, or null for no deadline
   * @param leaseTo a lease to take on the new message for a local worker, or null to enqueue it
   *     visible and wake the queue
   * @param now the clock, or null for the database's
   * @param headersJson the headers of the run's message (a trace context), a serialized JSON object
   *     of strings, or null for none
   * @param parentRunId the run that starts this one as its child ({@code RunContext.child}), recorded
   *     on the new run in the same statement, or null for a run of its own. A trigger whose key is
   *     taken leaves the existing run's parent as it is.
   * @param cancelWithParent whether the parent's cancel cancels the new run (ignored without a parent)
   */
  public record TriggerRun(
      String workflow, String queue, @Nullable String version, String inputJson, @Nullable String idempotencyKey,
      @Nullable Duration timeout, @Nullable LeaseTaking leaseTo, @Nullable Instant now,
      @Nullable String headersJson, @Nullable Long parentRunId, boolean cancelWithParent) {
    /**
     * A trigger of a run of its own (no parent).
     *
     * @param workflow the workflow
     * @param queue the queue of the run's message
     * @param version the definition's version, or null
     * @param inputJson the input, serialized
     * @param idempotencyKey the key, or null
     * @param timeout the run's timeout, or null
     * @param leaseTo a lease to take for a local worker, or null
     * @param now the clock, or null for the database's
     * @param headersJson the headers of the run's message, or null
     */
    public TriggerRun(String workflow, String queue, @Nullable String version, String inputJson,
        @Nullable String idempotencyKey, @Nullable Duration timeout, @Nullable LeaseTaking leaseTo,
        @Nullable Instant now, @Nullable String headersJson) {
      this(workflow, queue, version, inputJson, idempotencyKey, timeout, leaseTo, now, headersJson, null, true);
    }

    /**
     * A trigger whose run's message has no headers.
     *
     * @param workflow the workflow
     * @param queue the queue of the run's message
     * @param version the definition's version, or null
     * @param inputJson the input, serialized
     * @param idempotencyKey the key, or null
     * @param timeout the run's timeout, or null
     * @param leaseTo a lease to take for a local worker, or null
     * @param now the clock, or null for the database's
     */
    public TriggerRun(String workflow, String queue, @Nullable String version, String inputJson,
        @Nullable String idempotencyKey, @Nullable Duration timeout, @Nullable LeaseTaking leaseTo,
        @Nullable Instant now) {
      this(workflow, queue, version, inputJson, idempotencyKey, timeout, leaseTo, now, null);
    }
  }

  /**
   * A worker begins (or resumes) executing a run: a run whose status is a source of {@code moves}
   * takes its target, counts an attempt and gets its start time (if it had none), and the run's
   * recorded steps are read, in one round trip. A run in any other status (finished, paused,
   * cancelling) is returned unchanged. The result tells how long the run has until its deadline by
   * the store's clock (see {@link StoreResults.RunBegun}).
   *
   * @param runId the run
   * @param moves the state machine's "begin" table
   * @param now the clock, or null for the database's
   */
  public record BeginRun(long runId, Moves moves, @Nullable Instant now) {}

  /**
   * One step record, written by the worker that holds the run's message lease. It is written only
   * while that lease holds (the message is live, leased under {@code lease.token()}, and its lease
   * has not expired by the store's clock) and the run has not finished. A new step is inserted; a
   * step recorded RETRY or WAITING (or RUNNING, left by schemas before V006) is overwritten; a step
   * recorded SUCCESS or ERROR is never changed.
   *
   * @param runId the run
   * @param lease the run's message lease ({@code now} is ignored; see {@link RecordSteps#now()})
   * @param position the step's identity in the run, independent of its name (see the engine's
   *     identity rules): unique within the run
   * @param stepId the step's readable identity, unique within the run: its name, {@code name#n} for
   *     later calls of the same name, prefixed by its scope
   * @param status SUCCESS, ERROR (for good), RETRY (due after wakeAfter) or WAITING (due after wakeAfter)
   * @param outputJson the output of a SUCCESS, or null for an empty one
   * @param outputType the Java class of the output, or null
   * @param error the error of ERROR or RETRY, or null
   * @param attempts how many times the step's body has run, this time included (0 for a sleep or
   *     signal wait)
   * @param wakeAfter how long after the store's now a RETRY or WAITING step is due, the due time
   *     being computed by the store; null with WAITING keeps the due time recorded by this step's
   *     earlier WAITING record (a wait replayed after a wake-up keeps its deadline); else null
   * @param awaiting the signal name a WAITING step waits for, else null
   * @param completion the order in which this execution's steps delivered their results, which a
   *     replay reproduces; 0 for RETRY and WAITING
   * @param ranFor how long this attempt of the body ran, measured by the engine; the store records
   *     the step's start as its now minus this when the step is first written (zero for waits)
   */
  public record RecordStep(
      long runId, LeaseRef lease, String position, String stepId, StepStatus status, @Nullable String outputJson,
      @Nullable String outputType, @Nullable String error, int attempts, @Nullable Duration wakeAfter,
      @Nullable String awaiting, int completion, Duration ranFor) {}

  /**
   * Step records of one or more runs written together in one statement where the backend allows;
   * each is fenced on its own (see {@link RecordStep}).
   *
   * @param steps the records, at least one; at most one per (run, step) in a batch
   * @param now the clock, or null for the database's
   */
  public record RecordSteps(List<RecordStep> steps, @Nullable Instant now) {}

  /**
   * Takes the oldest unconsumed signal of a name and records it as the step's SUCCESS output, in
   * one transaction fenced like {@link RecordStep} by the run's message lease; the signal is
   * consumed only if the step was recorded.
   *
   * @param runId the run
   * @param lease the run's message lease ({@code now} is the clock override)
   * @param position the waiting step's position
   * @param stepId the waiting step's readable identity
   * @param name the signal name
   * @param completion the completion order to record with the step
   */
  public record TakeSignal(long runId, LeaseRef lease, String position, String stepId, String name, int completion) {}

  /**
   * Records an event of a run (a value for readers outside the run, see
   * {@code RunContext.setEvent}) as the SUCCESS of the step that sets it, in one transaction fenced
   * like {@link RecordStep} by the run's message lease: the event is appended only if the step was
   * recorded now, so a replayed or repeated write appends nothing. Writes of one run's events are
   * serialised (the run's row is locked), so their sequence numbers grow in commit order.
   *
   * @param runId the run
   * @param lease the run's message lease ({@code now} is the clock override)
   * @param position the step's position
   * @param stepId the step's readable identity
   * @param key the event's key, checked by the engine
   * @param valueJson the value, JSON the store keeps exactly
   * @param completion the completion order to record with the step
   */
  public record SetEvent(long runId, LeaseRef lease, String position, String stepId, String key, String valueJson,
      int completion) {}

  /**
   * Reads a run's signals, consumed or not, after an id, in one statement.
   *
   * @param runId the run
   * @param afterId the id after which to read; 0 for all
   * @param limit the most rows, at least 1
   */
  public record ListSignals(long runId, long afterId, int limit) {}

  /**
   * Reads the events of several runs, each after its own sequence number, in one statement.
   *
   * @param runIds the runs, at most 1,000
   * @param afterSeqs for each run (same index), the sequence number after which to read; 0 for all
   * @param limit the most rows, at least 1
   */
  public record ListEvents(List<Long> runIds, List<Long> afterSeqs, int limit) {
    /** Copies the lists and checks that they pair up. */
    public ListEvents {
      runIds = List.copyOf(runIds);
      afterSeqs = List.copyOf(afterSeqs);
      if (runIds.size() != afterSeqs.size()) {
        throw new IllegalArgumentException("one sequence number per run");
      }
    }
  }

  /**
   * Releases a run's message until the run has something to do, fenced by the message lease. The
   * visibility, computed by the store's clock ({@code lease.now()} when set), is the first that
   * applies of: now if the run's status is one of {@code wakeAtOnce}; the deadline (or never) if
   * its status is one of {@code parkedUntilResumed}, even with a signal pending (the resume wakes
   * it); now if a signal one of its WAITING steps waits for is pending; otherwise now plus
   * {@code wakeAfter} (now if null), never after the deadline. The message's delivery count is
   * reset: waiting is not a failed delivery.
   *
   * @param runId the run
   * @param lease the message lease
   * @param wakeAfter how long from the store's now until the run has work again, or null for now
   * @param failed whether the workflow itself failed and this is its retry (counted on the run)
   * @param wakeAtOnce statuses whose run has work at once (the state machine says: CANCELLING)
   * @param parkedUntilResumed statuses whose run waits for a resume (the state machine says: PAUSED)
   */
  public record SuspendRun(long runId, LeaseRef lease, @Nullable Duration wakeAfter, boolean failed,
      List<RunStatus> wakeAtOnce, List<RunStatus> parkedUntilResumed) {}

  /**
   * Finishes a run and archives its message in one transaction: the run's status moves by
   * {@code moves} (the state machine's "finish with this outcome" table; a status that is not a
   * source, a finished run's, does not move and nothing changes). The output is recorded only when
   * the run moves to SUCCESS, the error only when it moves to ERROR; a run that moves to CANCELLED
   * keeps the reason its cancel recorded.
   *
   * @param runId the run
   * @param lease the message lease, or null when no worker holds the message
   * @param status the outcome the worker reports: SUCCESS, ERROR or CANCELLED
   * @param moves the state machine's table for that outcome
   * @param outputJson the output of SUCCESS (JSON text, "null" for empty), else null
   * @param error the error of ERROR or the reason of CANCELLED, else null
   * @param now the clock, or null for the database's
   * @param steps the execution's tail: SUCCESS or ERROR records of steps whose results the body
   *     took before it ended but that were not written yet, each of this run and fenced by the same
   *     lease (its own lease reference is not read). They are written, as {@link RecordStep} says,
   *     in the finish's transaction if and only if the run moves; empty for none. Given only with a
   *     lease.
   */
  public record FinishRun(
      long runId, @Nullable LeaseRef lease, RunStatus status, Moves moves, @Nullable String outputJson,
      @Nullable String error, @Nullable Instant now, List<RecordStep> steps) {

    /** Copies the tail and checks that it belongs to this leased run and holds finished steps only. */
    public FinishRun {
      steps = List.copyOf(steps);
      if (!steps.isEmpty() && lease == null) {
        throw new IllegalArgumentException("a finish writes a tail of steps only under the run's lease");
      }
      for (RecordStep step : steps) {
        if (step.runId() != runId) {
          throw new IllegalArgumentException("a tail step of run " + step.runId() + " in the finish of run " + runId);
        }
        if (step.status() != StepStatus.SUCCESS && step.status() != StepStatus.ERROR) {
          throw new IllegalArgumentException("a tail step must be SUCCESS or ERROR, got " + step.status());
        }
      }
    }

    /** A finish without a tail of steps. */
    public FinishRun(long runId, @Nullable LeaseRef lease, RunStatus status, Moves moves, @Nullable String outputJson,
        @Nullable String error, @Nullable Instant now) {
      this(runId, lease, status, moves, outputJson, error, now, List.of());
    }
  }

  /**
   * Runs finished together by their message leases, in one statement where the backend allows:
   * each is finished on its own as {@link FinishRun} says, fenced by its own lease.
   *
   * @param runs the completions, at least one, each with its lease (a {@link FinishRun#now()} is
   *     ignored); at most one per run in a batch
   * @param now the clock, or null for the database's
   */
  public record FinishRuns(List<FinishRun> runs, @Nullable Instant now) {}

  /**
   * Sends a signal to a run and wakes it if it waits for that name.
   *
   * @param runId the run
   * @param name the signal name
   * @param valueJson the value, serialized
   * @param now the clock, or null for the database's
   */
  public record SignalRun(long runId, String name, String valueJson, @Nullable Instant now) {}

  /** What {@link ControlRun} does, for its errors; its transitions come with it as tables. */
  public enum RunControl {
    /** A pause; the run stops at its next step boundary. */
    PAUSE,
    /** A resume, its message visible now. */
    RESUME,
    /** A cancel: at once if no worker holds the run (its message archived), else at the worker's next step boundary. */
    CANCEL
  }

  /**
   * Pauses, resumes or cancels a run from outside, serialised on the run row. The backend reads the
   * run under its lock and picks one table: {@code whenUnstarted} if given and the run has no start
   * time; else {@code whenHeld} if given and a worker holds the run's message lease; else
   * {@code moves}. A status in {@code unchanged} changes nothing; a status that is not a source of
   * the picked table fails with {@link io.pgqrs.workflow.RunStateException}. What follows from the
   * target is mechanical: a run that moves to CANCELLED has its live message archived and its end
   * announced; a run that moves from PAUSED to QUEUED or RUNNING has its message made visible now
   * and its queue woken; {@code reason}, when given, is recorded as the run's error.
   *
   * @param runId the run
   * @param action what is done, for errors
   * @param moves the table
   * @param whenHeld the table while a worker holds the run, or null to use {@code moves}
   * @param whenUnstarted the table for a run no worker ever began, or null to use the others
   * @param unchanged statuses on which the action is a no-op
   * @param reason the cancel reason, or with PAUSE an error to record (why the engine paused the
   *     run); null to keep the run's error
   * @param now the clock, or null for the database's
   */
  public record ControlRun(long runId, RunControl action, Moves moves, @Nullable Moves whenHeld,
      @Nullable Moves whenUnstarted, List<RunStatus> unchanged, @Nullable String reason, @Nullable Instant now) {}

  /**
   * An operator starts a finished run again from where it stopped, under its own id: the run's
   * status moves by {@code moves} (a status that is not a source fails with {@link
   * io.pgqrs.workflow.RunStateException}), its step records other than SUCCESS are deleted (so those
   * steps execute again while the successful ones replay), its output, error, finish time and
   * failure count are cleared, its deadline is its timeout again from now, and a new message for it
   * is enqueued visible on {@code queue} and the queue woken. One transaction, serialised on the run
   * row, so of two concurrent restarts exactly one applies.
   *
   * @param runId the run
   * @param moves the restart table
   * @param queue the queue of the run's new message (its workflow's, or its version's)
   * @param now the clock, or null for the database's
   */
  public record RestartRun(long runId, Moves moves, String queue, @Nullable Instant now) {}

  /**
   * An operator creates a new run of a finished run's workflow, version and input, whose step
   * records are copies of the original's SUCCESS steps completed before the step {@code fromStepId}
   * (with their outputs and events), so it re-executes from that step. The original is unchanged.
   * The new run is QUEUED with no idempotency key, its deadline its timeout from now, and its message
   * enqueued visible on {@code queue}. One transaction.
   *
   * @param runId the run forked
   * @param fromStepId the readable identity of the first step to execute again (as listed by the
   *     run's steps)
   * @param forkable the statuses a forked run may have (a finished one); any other fails with
   *     {@link io.pgqrs.workflow.RunStateException}
   * @param queue the queue of the new run's message
   * @param now the clock, or null for the database's
   */
  public record ForkRun(long runId, String fromStepId, List<RunStatus> forkable, String queue,
      @Nullable Instant now) {
    /** Copies the list. */
    public ForkRun {
      forkable = List.copyOf(forkable);
    }
  }

  /**
   * A page of runs.
   *
   * @param query the filter and page
   */
  public record ListRuns(RunQuery query) {}

  /**
   * Names the parent of a run a workflow started as its child. Idempotent: linking the same child
   * to the same parent again changes nothing; a run that already has another parent is left as it is.
   *
   * @param childRunId the child run
   * @param parentRunId the parent run
   * @param cancelWithParent whether cancelling the parent cancels the child
   */
  public record LinkChildRun(long childRunId, long parentRunId, boolean cancelWithParent) {}

  // ---------------------------------------------------------------- schedules

  /**
   * A schedule to create or declare. The engine has parsed the cron expression and the zone, and
   * computed the first tick after the store's clock.
   *
   * @param name the schedule's name
   * @param cron the cron expression, as parsed
   * @param zone the zone id
   * @param workflowTarget true when each tick triggers a run of {@code target}, false when it
   *     enqueues a message on the queue {@code target}
   * @param target the workflow's or the queue's name
   * @param version the workflow version the runs are triggered on, or null
   * @param payloadJson the run input or message payload, serialized
   * @param timeout the run timeout of each run, or null for none
   * @param missedMax the most due ticks fired at once (the missed-tick policy)
   * @param nextFireAt the first tick
   * @param now the clock, or null for the database's
   */
  public record CreateSchedule(String name, String cron, String zone, boolean workflowTarget, String target,
      @Nullable String version, String payloadJson, @Nullable Duration timeout, int missedMax, Instant nextFireAt,
      @Nullable Instant now) {}

  /**
   * Pauses or resumes a schedule.
   *
   * @param name the schedule
   * @param paused the flag to set
   * @param resumeAt the next tick a paused schedule takes when resumed, or null to keep its own;
   *     ignored unless the schedule goes from paused to resumed
   * @param now the clock, or null for the database's
   */
  public record PauseSchedule(String name, boolean paused, @Nullable Instant resumeAt, @Nullable Instant now) {}

  /**
   * Reads the schedules due at the store's clock.
   *
   * @param limit the most schedules returned
   * @param now the clock, or null for the database's
   */
  public record DueSchedules(int limit, @Nullable Instant now) {}

  /**
   * One tick to fire: its time and the idempotency key of its run (the dedup key of its message).
   *
   * @param at the tick
   * @param key the key
   */
  public record FireTick(Instant at, String key) {}

  /**
   * Fires ticks of a schedule, in one transaction: the schedule's next tick moves from
   * {@code expectedNextFireAt} to {@code nextFireAt} (a compare-and-set: nothing happens if another
   * engine moved it first, or the schedule is paused or gone), and each tick of {@code ticks}
   * triggers a run keyed by its key, or enqueues a message with its key as dedup key, with the
   * schedule's stored target and payload.
   *
   * @param name the schedule
   * @param expectedNextFireAt its next tick as the engine read it
   * @param nextFireAt its next tick after the ticks fired
   * @param ticks the ticks to fire, oldest first; may be empty (the schedule only moves on)
   * @param now the clock, or null for the database's
   */
  public record FireSchedule(String name, Instant expectedNextFireAt, Instant nextFireAt, List<FireTick> ticks,
      @Nullable Instant now) {}
}
