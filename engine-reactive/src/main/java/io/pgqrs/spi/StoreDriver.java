package io.pgqrs.spi;

import io.pgqrs.Capabilities;
import io.pgqrs.ConfigurationException;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The store SPI: one method per durable operation, implemented once per backend. A driver is bound
 * to one database and one schema when its provider opens it.
 *
 * <p>Contract for implementations: every method returns a cold publisher; nothing blocks the
 * subscribing thread; each method is atomic (one statement or one transaction), rolls back when
 * cancelled and never leaves a connection mid-transaction; driver errors are translated to the
 * {@link io.pgqrs.PgqrsException} hierarchy naming the operation ({@link
 * io.pgqrs.StoreUnavailableException} for connection loss and retryable conflicts,
 * {@link io.pgqrs.SchemaNotInstalledException} when the tables are missing). Lease operations
 * succeed only when the token matches, the message is live and the lease is unexpired at
 * {@code now}. Operations on a queue name that does not exist signal
 * {@link io.pgqrs.queue.QueueNotFoundException} unless documented otherwise.
 *
 * <p>Time: the store's clock is the only clock. Every "now plus a delay" (a lease, a visibility, a
 * retry, a sleep, a signal timeout, a deadline) is computed by the store from a relative
 * {@link java.time.Duration} the engine passes; parameter records carry absolute instants only as
 * the optional {@code now} override (tests moving time) or as a time the user gave
 * ({@link StoreParams.NewRow#visibleAt()}). Where the engine must wait for a recorded time, the
 * store returns what is left of it as a duration by its own clock ({@link StoreResults.RunBegun#untilDeadline()},
 * {@link StoreResults.StepRecord#untilWake()}, {@link #untilNextVisible}), so the engine never compares a stored instant with the JVM's clock.
 */
public interface StoreDriver {

  /**
   * What this backend can do.
   *
   * @return the capabilities
   */
  Capabilities capabilities();

  /**
   * The schema this driver is bound to.
   *
   * @return the schema name
   */
  String schema();

  /**
   * Applies missing migrations; idempotent and safe to run concurrently.
   *
   * @return completes when installed
   */
  Mono<Void> install();

  /**
   * Reports the installed version and missing objects.
   *
   * @return the report
   */
  Mono<SchemaReport> verify();

  /**
   * Removes what install made.
   *
   * @return completes when removed
   */
  Mono<Void> uninstall();

  /**
   * Creates a queue.
   *
   * @param p the parameters
   * @return the queue; {@link io.pgqrs.queue.QueueAlreadyExistsException} if it exists
   */
  Mono<QueueInfo> createQueue(StoreParams.CreateQueue p);

  /**
   * Changes a queue's options; the next claim applies them. A claim on a queue with a concurrency
   * limit ({@code maxLeased}) leases no more than the limit less the live leases of the queue,
   * counted consistently with every concurrent claim, and when it leaves the queue at its limit its
   * {@link StoreResults.Claimed#untilNextVisible()} is at least the time until the first live lease
   * ends. A claim on a queue with a claim rate ({@code maxClaimsPerSecond}) takes no more than the
   * whole tokens of the queue's bucket (refilled at the rate, holding at most one second's), and
   * when it leaves less than one token its {@code untilNextVisible()} is at least the time until
   * the next one. A claim ({@link #claim}, not {@link #claimRuns}) on a queue with a per-key limit
   * ({@code maxLeasedPerKey}) leases no more of a group key (the messages without one are a group)
   * than the limit less that key's live leases, counted consistently with every concurrent claim,
   * and takes the messages round-robin: the first claimable message of each key before the second
   * of any, the keys in the claim order of their first claimable message; when it took less than
   * its room, its {@code untilNextVisible()} is the time until the first live message it left
   * becomes visible or the first lease it granted ends (zero if it filled its room).
   *
   * @param p the parameters
   * @return the queue as changed, or empty if there is none
   */
  Mono<QueueInfo> configureQueue(StoreParams.ConfigureQueue p);

  /**
   * Reads a queue.
   *
   * @param queue the name
   * @return the queue, or empty if none
   */
  Mono<QueueInfo> findQueue(String queue);

  /**
   * Lists queues by name.
   *
   * @return the queues
   */
  Flux<QueueInfo> listQueues();

  /**
   * Deletes the live messages of a queue.
   *
   * @param queue the name
   * @return how many were deleted
   */
  Mono<Long> purgeQueue(String queue);

  /**
   * Deletes a queue with its messages, unless refused.
   *
   * @param p the parameters
   * @return the outcome
   */
  Mono<StoreResults.QueueDeletion> deleteQueue(StoreParams.DeleteQueue p);

  /**
   * Inserts messages in one statement, all or none, honouring dedup keys.
   *
   * @param p the parameters
   * @return one result per input row, in input order
   */
  Mono<List<StoreResults.Enqueued>> enqueue(StoreParams.Enqueue p);

  /**
   * Claims messages, dead-lettering exhausted ones instead of delivering them.
   *
   * @param p the parameters
   * @return the claimed and dead-lettered messages
   */
  Mono<StoreResults.Claimed> claim(StoreParams.Claim p);

  /**
   * Claims messages of a workflow queue and begins the runs they carry, in one round trip where the
   * backend allows (see {@link StoreParams.ClaimRuns}). Cold.
   *
   * @param p the claim and the begin table
   * @return the claimed and dead-lettered messages, and the runs begun; errors as {@link #claim}
   *     does (nothing claimed, nothing begun)
   */
  Mono<StoreResults.ClaimedRuns> claimRuns(StoreParams.ClaimRuns p);

  /**
   * Archives a leased message.
   *
   * @param p the lease
   * @return whether it was archived
   */
  Mono<Boolean> archive(StoreParams.LeaseRef p);

  /**
   * Archives several leased messages in one statement.
   *
   * @param p the leases
   * @return how many were archived
   */
  Mono<Integer> archiveMany(StoreParams.ArchiveMany p);

  /**
   * Settles several leased messages in one statement (or one transaction): each settle archives,
   * deletes, releases or dead-letters its message as {@link #archive}, {@link #delete},
   * {@link #release} and {@link #deadLetter} do, fenced by its own lease (token held, lease not
   * expired at the statement's clock). Rows are locked in message id order, so concurrent batches
   * cannot deadlock. A message named by more than one settle of a batch is settled by its first
   * one alone; each later one is {@link StoreResults.Settled#NOT_HELD} and changes nothing. Cold.
   *
   * @param p the settles; an empty list changes nothing
   * @return one result per settle, in input order; errors with the store's error for all of them
   *     (nothing changed)
   */
  Mono<List<StoreResults.Settled>> settleMany(StoreParams.SettleMany p);

  /**
   * Settles some leased messages and claims more, as {@link #settleMany} then {@link #claim} would,
   * for a consumer whose finished deliveries go with its next claim. A backend that can do both in
   * one round trip does (PostgreSQL: one statement, one commit); the default runs the two in turn.
   * The settles are applied before or together with the claim, never after it: a claim that fails
   * after the settles were applied leaves them applied. Cold.
   *
   * @param claim the claim
   * @param settles the settles, each fenced by its own lease; an empty list settles nothing
   * @return the claim's result and one settle result per settle, in input order; errors with the
   *     store's error (with {@link io.pgqrs.queue.QueueNotFoundException} for an unknown queue, the
   *     settles then applied or not as the store's error says nothing of)
   */
  default Mono<StoreResults.ClaimedAndSettled> claimAndSettle(StoreParams.Claim claim, StoreParams.SettleMany settles) {
    return settleMany(settles).flatMap(settled -> claim(claim)
        .map(claimed -> new StoreResults.ClaimedAndSettled(claimed, settled)));
  }

  /**
   * Whether {@link #claimAndSettle} costs one round trip, so a consumer gains by sending its
   * finished deliveries' settles with its next claim instead of on their own. False by default
   * (the default {@code claimAndSettle} is two calls in turn); PostgreSQL says true.
   *
   * @return true when claiming and settling together is one round trip
   */
  default boolean claimsAndSettlesInOneRoundTrip() {
    return false;
  }

  /**
   * Deletes a leased message.
   *
   * @param p the lease
   * @return whether it was deleted
   */
  Mono<Boolean> delete(StoreParams.LeaseRef p);

  /**
   * Releases a leased message.
   *
   * @param p the parameters
   * @return whether it was released
   */
  Mono<Boolean> release(StoreParams.Release p);

  /**
   * Extends a lease.
   *
   * @param p the parameters
   * @return the new lease, or empty if it was lost
   */
  Mono<Lease> extend(StoreParams.Extend p);

  /**
   * Extends several leases in one statement (or one transaction), each fenced by its token and
   * extended by its own duration from the store's clock; rows are locked in message id order, so
   * concurrent batches cannot deadlock. Cold.
   *
   * @param p the leases; an empty list changes nothing
   * @return the new lease of each input lease that was still held (in no particular order, a
   *     repeated lease once); a lease not returned was lost, archived or settled, and nothing was
   *     changed for it
   */
  Mono<List<Lease>> extendMany(StoreParams.ExtendMany p);

  /**
   * Dead-letters a leased message.
   *
   * @param p the parameters
   * @return whether it was dead-lettered
   */
  Mono<Boolean> deadLetter(StoreParams.DeadLetter p);

  /**
   * Reads a message.
   *
   * @param id the id
   * @return the message, or empty if none
   */
  Mono<Message> findMessage(long id);

  /**
   * Lists messages of one state of one queue by id.
   *
   * @param p the parameters
   * @return the page
   */
  Flux<Message> listMessages(StoreParams.ListMessages p);

  /**
   * Moves dead messages back to live with attempts reset.
   *
   * @param p the parameters
   * @return how many were replayed
   */
  Mono<Long> replayDead(StoreParams.Replay p);

  /**
   * Deletes archived or dead messages.
   *
   * @param p the parameters
   * @return how many were deleted
   */
  Mono<Long> purgeMessages(StoreParams.PurgeMessages p);

  /**
   * Registers a worker.
   *
   * @param p the parameters
   * @return the worker; {@link io.pgqrs.worker.WorkerAlreadyExistsException} if the name is taken
   */
  Mono<WorkerInfo> registerWorker(StoreParams.RegisterWorker p);

  /**
   * Records a heartbeat.
   *
   * @param p the parameters
   * @return the worker's status, or empty if there is no such worker
   */
  Mono<WorkerStatus> heartbeat(StoreParams.Heartbeat p);

  /**
   * Moves a worker between ready and suspended; a stopped worker is left unchanged.
   *
   * @param p the parameters
   * @return the worker after the change (still stopped if it was), or empty if none
   */
  Mono<WorkerInfo> setWorkerStatus(StoreParams.SetWorkerStatus p);

  /**
   * Stops a worker, releasing its leases if asked.
   *
   * @param p the parameters
   * @return the outcome
   */
  Mono<StoreResults.WorkerShutdown> shutdownWorker(StoreParams.ShutdownWorker p);

  /**
   * Reads a worker.
   *
   * @param workerId the worker
   * @return the worker, or empty if none
   */
  Mono<WorkerInfo> findWorker(long workerId);

  /**
   * Lists workers.
   *
   * @param queue one queue, or null for all
   * @return the workers by id
   */
  Flux<WorkerInfo> listWorkers(@org.jspecify.annotations.Nullable String queue);

  /**
   * Judges worker health by the store's clock.
   *
   * @param p the parameters
   * @return one entry per worker, by id
   */
  Flux<WorkerHealth> workerHealth(StoreParams.WorkerHealthQuery p);

  /**
   * Deletes a worker unless it holds leases.
   *
   * @param workerId the worker
   * @return the outcome ({@link StoreResults.WorkerStopped} with 0 means deleted)
   */
  Mono<StoreResults.WorkerShutdown> deleteWorker(long workerId);

  /**
   * Reads queue metrics, of one queue or all.
   *
   * @param p the parameters
   * @return the metrics by queue name
   */
  Flux<QueueMetrics> queueMetrics(StoreParams.MetricsQuery p);

  /**
   * Counts a queue's archived messages per interval of a recent window, in one statement (see
   * {@link StoreParams.ThroughputQuery}). Cold; a read only.
   *
   * @param p the queue, the window, the interval length and the clock override
   * @return one row per interval with archived messages, by interval, or one row with a null
   *     interval when there are none; no row if there is no such queue
   */
  Flux<StoreResults.ArchivedBucket> queueThroughput(StoreParams.ThroughputQuery p);

  /**
   * Takes a maintenance service's turn, in one short autocommit statement on the service's row of
   * the schedule. The turn is taken when it is due (or {@code force} is set) and no other instance
   * is taking it at that very moment, which never waits: the next turn is then due
   * {@code interval} from now and this instance is recorded as the last to take it. A turn not
   * taken changes nothing. Holding a turn locks nothing afterwards: the service's work is made of
   * batches that are each safe to run concurrently with other instances' batches. Cold.
   *
   * @param p the service, instance and interval
   * @return whether the turn was taken, and the store's clock when it looked; errors if the service
   *     has no row (the schema predates it: run install)
   */
  Mono<StoreResults.TurnTaken> takeMaintenanceTurn(StoreParams.MaintenanceTurn p);

  /**
   * Reads the schedule of every maintenance service: when each is next due and who took its last
   * turn. Cold.
   *
   * @return one entry per service, by name
   */
  Flux<StoreResults.MaintenanceSchedule> maintenanceSchedules();

  /**
   * Stops at most {@code limit} ready or suspended workers whose heartbeat is older than
   * {@code staleAfter} and releases every unexpired lease they hold (claimable at once, attempts
   * kept, the reason in {@code last_error}), then wakes the queues of the released messages.
   * Atomic: a worker is stopped together with the release of its leases, and a worker stopped by
   * one instance is never counted by another. Expired leases are left alone (they are claimable
   * anyway). Cold.
   *
   * @param p the threshold and batch limit
   * @return how many workers were stopped and leases released, and the queues woken
   */
  Mono<StoreResults.WorkersRescued> rescueStaleWorkers(StoreParams.RescueStaleWorkers p);

  /**
   * Deletes at most {@code limit} archived messages archived before {@code now - olderThan}, oldest
   * first, in one atomic statement; rows another instance is deleting at the same time are skipped,
   * so each row is counted once. Cold.
   *
   * @param p the retention and batch limit
   * @return how many messages were deleted
   */
  Mono<Long> purgeArchived(StoreParams.PurgeBatch p);

  /**
   * Deletes at most {@code limit} dead-lettered messages dead since before {@code now - olderThan},
   * oldest first, in one atomic statement, each row counted once across instances. Cold.
   *
   * @param p the retention and batch limit
   * @return how many messages were deleted
   */
  Mono<Long> purgeDeadLetters(StoreParams.PurgeBatch p);

  /**
   * Deletes at most {@code limit} finished runs (SUCCESS, ERROR or CANCELLED) that finished before
   * {@code now - olderThan}, oldest first, with their steps and signals, in one transaction; runs
   * that have not finished are never touched. Their archived trigger messages are left to
   * {@link #purgeArchived}. Each run is counted once across instances. Cold; cancelling rolls the
   * batch back.
   *
   * @param p the retention and batch limit
   * @return how many runs, steps and signals were deleted
   */
  Mono<StoreResults.FinishedRunsPurged> purgeFinishedRuns(StoreParams.PurgeBatch p);

  /**
   * Deletes at most {@code limit} stopped workers stopped before {@code now - olderThan} that no
   * live message names as its lease holder (an expired lease included), in one atomic statement,
   * each counted once across instances. Ready and suspended workers are never touched. Cold.
   *
   * @param p the retention and batch limit
   * @return how many workers were deleted
   */
  Mono<Long> purgeStoppedWorkers(StoreParams.PurgeBatch p);

  /**
   * Ends at most {@code limit} runs no worker will finish, in one transaction: runs past their
   * deadline whose message no worker holds (a worker holding one enforces the deadline itself)
   * end ERROR, runs whose trigger message was dead-lettered end ERROR, and either ends CANCELLED
   * if a cancel was pending. Their live messages are archived and their end is announced (see
   * {@link #runsFinished()}) after commit. Each run is counted once across instances. Cold;
   * cancelling rolls the batch back.
   *
   * @param p the batch limit
   * @return how many runs were ended
   */
  Mono<Long> reapRuns(StoreParams.ReapRuns p);

  /**
   * How long until the queue's next live message becomes claimable, by the store's clock: a
   * delayed message coming due or a lease running out. Consumer streams ask this when a claim came
   * back short, so they wake when work is due instead of at the next poll. Cold.
   *
   * @param queue the queue
   * @param now the clock override, or null
   * @return zero if a message is claimable now, the wait otherwise; empty when the queue holds no
   *     live message or does not exist
   */
  Mono<java.time.Duration> untilNextVisible(String queue, java.time.@org.jspecify.annotations.Nullable Instant now);

  /**
   * Counts the messages of a queue a claim could take now: live and visible. Reads only live rows
   * (the claim index), never archived or dead ones. Cold.
   *
   * @param queue the queue
   * @param now the clock, or null for the store's own
   * @return the count; empty if the queue does not exist
   */
  Mono<Long> countClaimable(String queue, java.time.@org.jspecify.annotations.Nullable Instant now);

  // ---------------------------------------------------------------- workflows

  /**
   * Creates the workflow's queue if absent and records the workflow. Idempotent.
   *
   * @param p the workflow
   * @return completes when recorded
   */
  Mono<Void> registerWorkflow(StoreParams.RegisterWorkflow p);

  /**
   * Creates a run and its trigger message in one transaction; with an idempotency key already used
   * by the workflow, returns that run instead and creates nothing. Without
   * {@link StoreParams.TriggerRun#leaseTo()} the message is visible at once and the queue is woken at
   * commit; with it, the message is inserted leased to that worker and the run begun (see
   * {@link StoreParams.LeaseTaking}), and no wake-up is sent.
   *
   * @param p the trigger
   * @return the run; errors with {@link io.pgqrs.workflow.WorkflowNotFoundException} for an unknown
   *     workflow or version queue
   */
  Mono<StoreResults.Triggered> triggerRun(StoreParams.TriggerRun p);

  /**
   * Marks a run begun by a worker and reads its recorded steps, in one round trip where the backend
   * allows (see {@link StoreParams.BeginRun}).
   *
   * @param p the run
   * @return the run after the change with the time left until its deadline and its history, or
   *     empty if it does not exist
   */
  Mono<StoreResults.RunBegun> beginRun(StoreParams.BeginRun p);

  /**
   * Writes step records, each fenced by its run's message lease (see {@link StoreParams.RecordStep}),
   * in one statement where the backend allows.
   *
   * @param p the records
   * @return one result per record, in the order given
   */
  Mono<List<StoreResults.StepWritten>> recordSteps(StoreParams.RecordSteps p);

  /**
   * Consumes a pending signal as a step's output (see {@link StoreParams.TakeSignal}).
   *
   * @param p the step and signal name
   * @return the value taken, if any
   */
  Mono<StoreResults.SignalTaken> takeSignal(StoreParams.TakeSignal p);

  /**
   * Records an event of a run with the step that sets it (see {@link StoreParams.SetEvent}), then
   * announces it (see {@link #eventsWritten()}). Cold; cancelling may leave it written or not,
   * never half.
   *
   * @param p the step and the event
   * @return whether the step and the event were written now, and the run's status as the write saw
   *     it; not written when the lease was lost, the run finished or the step was already recorded
   */
  Mono<StoreResults.StepWritten> setEvent(StoreParams.SetEvent p);

  /**
   * Reads a run's signals, pending and consumed, after an id (see {@link StoreParams.ListSignals}).
   * Cold; a read only, so cancelling leaves nothing behind.
   *
   * @param p the run, the id to read after and the limit
   * @return the signals by id, at most {@code limit}; none for a run that does not exist
   */
  Flux<StoreResults.RunSignal> listSignals(StoreParams.ListSignals p);

  /**
   * Reads events of runs after given sequence numbers (see {@link StoreParams.ListEvents}). Cold.
   *
   * @param p the runs, their sequence numbers and the limit
   * @return the events, by run and then by sequence number, at most {@code limit}; none for runs
   *     that do not exist
   */
  Flux<StoreResults.RunEvent> listEvents(StoreParams.ListEvents p);

  /**
   * Ids of runs whose events were written by another process, announced after commit; a negative
   * id means "any run may have new events" (a listener (re)connected or the payload names no run).
   * Hot and best-effort: readers also poll. The default announces nothing (readers poll).
   *
   * @return the announcements
   */
  default Flux<Long> eventsWritten() {
    return Flux.never();
  }

  /**
   * Releases a run's message until it has work again (see {@link StoreParams.SuspendRun}).
   *
   * @param p the run and its message lease
   * @return false when the lease was lost (nothing changed)
   */
  Mono<Boolean> suspendRun(StoreParams.SuspendRun p);

  /**
   * Finishes a run and archives its message in one transaction, then announces the run's end (see
   * {@link #runsFinished()}).
   *
   * @param p the outcome
   * @return the status the run ended with (CANCELLED for a run that was CANCELLING); empty when
   *     the run had already finished or the message lease was lost (nothing changed)
   */
  Mono<io.pgqrs.workflow.RunStatus> finishRun(StoreParams.FinishRun p);

  /**
   * Finishes runs by their message leases, in one statement or transaction where the backend
   * allows, each as {@link #finishRun} says and fenced on its own; their ends are announced after
   * the commit. Cold.
   *
   * @param p the completions
   * @return one result per completion, in input order; errors with the store's error for all of
   *     them (nothing changed)
   */
  Mono<List<StoreResults.RunFinished>> finishRuns(StoreParams.FinishRuns p);

  /**
   * Records a signal and wakes the run if it waits for that name.
   *
   * @param p the signal
   * @return the run; errors with {@link io.pgqrs.workflow.RunNotFoundException} or, for a finished run,
   *     {@link io.pgqrs.workflow.RunStateException}
   */
  Mono<io.pgqrs.workflow.RunInfo> signalRun(StoreParams.SignalRun p);

  /**
   * Pauses, resumes or cancels a run (see {@link StoreParams.RunControl}).
   *
   * @param p the run and action
   * @return the run after the change; errors with {@link io.pgqrs.workflow.RunNotFoundException} or
   *     {@link io.pgqrs.workflow.RunStateException} when the action does not apply to its status
   */
  Mono<io.pgqrs.workflow.RunInfo> controlRun(StoreParams.ControlRun p);

  /**
   * Starts a finished run again (see {@link StoreParams.RestartRun}).
   *
   * @param p the run, its restart table and its queue
   * @return the run after the change; errors with {@link io.pgqrs.workflow.RunNotFoundException},
   *     {@link io.pgqrs.workflow.RunStateException} for a status the table does not move, or
   *     {@link io.pgqrs.workflow.WorkflowNotFoundException} if the run's queue is gone
   */
  Mono<io.pgqrs.workflow.RunInfo> restartRun(StoreParams.RestartRun p);

  /**
   * Forks a finished run (see {@link StoreParams.ForkRun}).
   *
   * @param p the run, the step to execute again and the new run's queue
   * @return the new run; errors with {@link io.pgqrs.workflow.RunNotFoundException},
   *     {@link io.pgqrs.workflow.RunStateException} for a run that is not finished,
   *     {@link io.pgqrs.InvalidArgumentException} if the run has no step {@code fromStepId}, or
   *     {@link io.pgqrs.workflow.WorkflowNotFoundException} if the queue is gone
   */
  Mono<io.pgqrs.workflow.RunInfo> forkRun(StoreParams.ForkRun p);

  /**
   * Reads a run.
   *
   * @param runId the run
   * @return the run, or empty
   */
  Mono<io.pgqrs.workflow.RunInfo> findRun(long runId);

  /**
   * Records a child run's parent (one guarded update, see {@link StoreParams.LinkChildRun}). Cold.
   *
   * @param p the link
   * @return true if the child is now linked to that parent, false if the run is gone or has another
   *     parent; fails with a store error
   */
  Mono<Boolean> linkChildRun(StoreParams.LinkChildRun p);

  /**
   * The unfinished children of a run that its cancel cancels (linked with {@code
   * cancelWithParent}), oldest first. Cold; a read.
   *
   * @param parentRunId the parent run
   * @return the children's run ids; fails with a store error
   */
  Flux<Long> childrenCancelledWithParent(long parentRunId);

  /**
   * Children that a cancel of their parent should have cancelled and has not reached: linked with
   * {@code cancelWithParent}, their status one of {@code childStatuses}, their parent's one of {@code
   * parentStatuses}; oldest first, at most {@code limit}. The run reaper cancels them. Cold; a read.
   *
   * @param p the statuses and the limit
   * @return the children with their parents; fails with a store error
   */
  Flux<StoreResults.UncancelledChild> uncancelledChildren(StoreParams.CancelledParentsChildren p);

  /**
   * Reads several runs at once (the engine's result waiter looks up every run it waits for in one
   * query).
   *
   * @param runIds the runs, at most 1,000
   * @return the runs that exist, in no particular order
   */
  Flux<io.pgqrs.workflow.RunInfo> findRuns(List<Long> runIds);

  /**
   * Reads several runs for the engine's result waiter, telling the store that someone waits for
   * them: a backend that announces finished runs ({@link #runsFinished()}) must announce these
   * from now on, and may leave unannounced the runs nobody outside the executing engine awaits
   * (one taken by its trigger's own engine, whose waiters are told in process). A backend that
   * announces nothing reads them as {@link #findRuns} does, which is the default. Cold.
   *
   * @param runIds the runs, at most 1,000
   * @return the runs that exist, in no particular order; a run another waiter marks at the same
   *     moment may be left out (it is announced when it finishes)
   */
  default Flux<io.pgqrs.workflow.RunInfo> awaitRuns(List<Long> runIds) {
    return findRuns(runIds);
  }

  /**
   * Lists runs, newest first.
   *
   * @param p the filter and page
   * @return the runs
   */
  Flux<io.pgqrs.workflow.RunInfo> listRuns(StoreParams.ListRuns p);

  /**
   * Lists a run's steps in the order they were first begun.
   *
   * @param runId the run
   * @return the steps
   */
  Flux<io.pgqrs.workflow.StepInfo> listSteps(long runId);

  /**
   * A transactional step: runs {@code work} on the connection of a transaction and records the
   * step's SUCCESS with the work's value in the same transaction, fenced like
   * {@link #recordSteps} by the run's message lease, so the work's database writes commit exactly
   * when the record does. Backends that cannot (see
   * {@link io.pgqrs.Capabilities#transactionalSteps()}) fail with {@link io.pgqrs.ConfigurationException}.
   *
   * @param step the step to record ({@code status}, output and error fields are ignored)
   * @param now the clock, or null for the database's
   * @param work the caller's work, given the backend's connection (R2DBC on PostgreSQL)
   * @param serialize turns the work's value into JSON
   * @param <T> the value type
   * @return the value, or empty when the work emitted none; fails with
   *     {@link StoreResults.StepLeaseLost} (everything rolled back) when the lease no longer holds
   */
  default <T> Mono<T> transactionalStep(StoreParams.RecordStep step, java.time.@org.jspecify.annotations.Nullable Instant now,
      java.util.function.Function<Object, Mono<T>> work, java.util.function.Function<T, String> serialize) {
    return Mono.error(new io.pgqrs.ConfigurationException("transactionalStep",
        "transactional steps need a backend that supports them (PostgreSQL); this is " + capabilities().backend()));
  }

  /**
   * Inserts messages as {@link #enqueue} does (one statement, dedup keys honoured, the same result),
   * but on the caller's connection, inside the caller's transaction: nothing is begun, committed,
   * rolled back or closed, so the messages commit or roll back with the caller's own writes. The
   * queue's wake-up goes out when the caller commits (never before: a rolled-back enqueue wakes
   * nobody). The engine has checked that the connection is in a transaction. Backends that cannot
   * (see {@link io.pgqrs.Capabilities#transactionalEnqueue()}) fail with
   * {@link io.pgqrs.ConfigurationException}. Cold; cancelling leaves the caller's transaction to the
   * caller.
   *
   * @param p the parameters
   * @param connection the caller's connection (R2DBC on PostgreSQL), on the store's database
   * @return one result per input row, in input order; a failed statement fails the caller's
   *     transaction (PostgreSQL aborts it), which the caller must roll back
   */
  default Mono<List<StoreResults.Enqueued>> enqueueInTransaction(StoreParams.Enqueue p, Object connection) {
    return Mono.error(new io.pgqrs.ConfigurationException("transactionalEnqueue",
        "transactional enqueue needs a backend that supports it (PostgreSQL); this is " + capabilities().backend()));
  }

  /**
   * Creates a run and its trigger message as {@link #triggerRun} does without
   * {@link StoreParams.TriggerRun#leaseTo()} (which must be null: no worker may take a run its
   * caller has not committed), but on the caller's connection, inside the caller's transaction,
   * beginning, committing and closing nothing. The queue's wake-up goes out when the caller
   * commits; nothing in this process is woken before. A run with the same idempotency key,
   * committed or written earlier in the same transaction, is returned instead. Backends that cannot
   * (see {@link io.pgqrs.Capabilities#transactionalEnqueue()}) fail with
   * {@link io.pgqrs.ConfigurationException}. Cold.
   *
   * @param p the trigger, without {@code leaseTo}
   * @param connection the caller's connection (R2DBC on PostgreSQL), on the store's database
   * @return the run, as {@link #triggerRun} returns it
   */
  default Mono<StoreResults.Triggered> triggerRunInTransaction(StoreParams.TriggerRun p, Object connection) {
    return Mono.error(new io.pgqrs.ConfigurationException("transactionalEnqueue",
        "transactional triggers need a backend that supports them (PostgreSQL); this is "
            + capabilities().backend()));
  }

  // ---------------------------------------------------------------- schedules

  /**
   * Reads the store's clock. Cold.
   *
   * @param now the clock override, or null
   * @return {@code now} if given, else the database's clock
   */
  Mono<java.time.Instant> currentTime(java.time.@org.jspecify.annotations.Nullable Instant now);

  /**
   * Creates a schedule. Cold.
   *
   * @param p the schedule
   * @return the schedule; {@link io.pgqrs.schedule.ScheduleAlreadyExistsException} if the name is taken
   */
  Mono<io.pgqrs.schedule.ScheduleInfo> createSchedule(StoreParams.CreateSchedule p);

  /**
   * Creates a schedule, or gives an existing one of the name the new definition: its paused flag
   * stays, and so does its next tick unless the cron expression or the zone changed; its update
   * time moves only if something changed. Idempotent, and safe when engines declare the same
   * schedule at once (one row, never an error). Cold.
   *
   * @param p the schedule
   * @return the schedule after the change
   */
  Mono<io.pgqrs.schedule.ScheduleInfo> declareSchedule(StoreParams.CreateSchedule p);

  /**
   * Reads a schedule. Cold.
   *
   * @param name the name
   * @return the schedule, or empty if none
   */
  Mono<io.pgqrs.schedule.ScheduleInfo> findSchedule(String name);

  /**
   * Lists every schedule by name. Cold.
   *
   * @return the schedules
   */
  Flux<io.pgqrs.schedule.ScheduleInfo> listSchedules();

  /**
   * Pauses or resumes a schedule (see {@link StoreParams.PauseSchedule}). Cold.
   *
   * @param p the change
   * @return the schedule after the change, or empty if none
   */
  Mono<io.pgqrs.schedule.ScheduleInfo> pauseSchedule(StoreParams.PauseSchedule p);

  /**
   * Deletes a schedule. Cold.
   *
   * @param name the name
   * @return whether it existed
   */
  Mono<Boolean> deleteSchedule(String name);

  /**
   * Reads the schedules due at the store's clock, in one statement. Cold.
   *
   * @param p the limit and clock
   * @return the due schedules, the clock and the time until the next tick ahead
   */
  Mono<StoreResults.DueSchedules> dueSchedules(StoreParams.DueSchedules p);

  /**
   * Fires ticks of a schedule atomically with moving it on (see {@link StoreParams.FireSchedule});
   * the queues of what it created are woken after the commit. Cold; cancelling rolls it back.
   *
   * @param p the ticks and the compare-and-set
   * @return whether it moved the schedule on and how many runs or messages it created; errors with
   *     {@link io.pgqrs.workflow.WorkflowNotFoundException} or
   *     {@link io.pgqrs.queue.QueueNotFoundException} when the target does not exist (nothing
   *     changed)
   */
  Mono<StoreResults.ScheduleFired> fireSchedule(StoreParams.FireSchedule p);

  /**
   * Ids of runs finished by any process, announced after commit; a negative id means "some runs
   * may have finished unannounced" (a listener reconnected), so every waiter should look. Hot and
   * best-effort: waiters must also poll. The default announces nothing.
   *
   * @return the announcements
   */
  default Flux<Long> runsFinished() {
    return Flux.never();
  }

  /**
   * Wake-ups for a queue: each signal means new messages may have become claimable there (an
   * enqueue or a release committed). Hot and best effort: a lost wake-up only delays work, since
   * consumers also poll; the table stays the truth. Never signals an error (implementations
   * reconnect on their own); completes when the driver closes. Backends without a notification
   * channel of their own return wake-ups from this process only.
   *
   * @param queue the queue name
   * @return the wake-ups
   */
  default Flux<String> wakeups(String queue) {
    return Flux.never();
  }

  /**
   * Closes the driver's connections. Idempotent.
   *
   * @return completes when closed
   */
  Mono<Void> close();
}
