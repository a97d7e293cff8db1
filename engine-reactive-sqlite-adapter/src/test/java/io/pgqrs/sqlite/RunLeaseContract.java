package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.conformance.Rows;
import io.pgqrs.internal.Json;
import io.pgqrs.internal.RunTransitions;
import io.pgqrs.internal.SqlStatements;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.WorkflowNotFoundException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * The run-lease operations of the SQLite dialect's driver: versioned workflows and runs, the
 * trigger's lease of the local fast path, the history read by {@code beginRun}, step records and
 * signals fenced by the run's message lease, {@code findRuns}, and the run state machine's tables,
 * which the driver applies as it is given them, tables the engine never gives included, deciding no
 * transition of its own. One subclass per way of reaching
 * SQLite names a fresh, empty database; time moves by the operations' {@code now} override, and
 * every test makes its own workflows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RunLeaseContract {

  private static final Duration T = Rows.TIMEOUT;
  private static final Duration LEASE = Rows.LEASE;

  /** The statements writing rows as older releases left them (steps held under a step lease). */
  private static final SqlStatements OLD = SqlStatements.load(RunLeaseContract.class,
      List.of("/io/pgqrs/sqlite/upgrade/old_rows.sql"), Map.of());

  private StoreDriver driver;
  private Rows rows;

  /**
   * The DSN of an empty database, used for the whole class.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  @BeforeAll
  void openAndInstall() {
    driver = DriverConformance.open(dsn());
    driver.install().block(T);
    rows = new Rows(driver);
  }

  @AfterAll
  void closeDriver() {
    if (driver != null) {
      driver.close().block(T);
    }
  }

  private static Instant start() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private String versioned(String workflow, String version, Instant at) {
    String queue = workflow + "@" + version;
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(workflow, queue, 3, at)).block(T);
    return queue;
  }

  private StoreResults.Triggered trigger(String workflow, String queue, @Nullable String version,
      @Nullable String key, @Nullable Duration timeout, StoreParams.@Nullable LeaseTaking leaseTo, Instant at) {
    return driver.triggerRun(new StoreParams.TriggerRun(workflow, queue, version, "{\"order\": 7}", key, timeout,
        leaseTo, at)).block(T);
  }

  private RunInfo run(long runId) {
    return driver.findRun(runId).blockOptional(T).orElseThrow();
  }

  /**
   * A step a worker holds under a step lease taken at {@code at}, as a release before the run lease
   * left one: RUNNING, without a position.
   */
  private void stepLeased(long runId, String stepId, Instant at) {
    assertThat(((SqliteDriver) driver).executor().statements("old step lease", s -> s.update(
        OLD.get("insert_running_step"), runId, stepId, UUID.randomUUID().toString(),
        SqliteDriver.micros(at.plus(LEASE)), SqliteDriver.micros(at))).block(T)).isEqualTo(1L);
  }

  private List<StepInfo> steps(long runId) {
    return driver.listSteps(runId).collectList().block(T);
  }

  private static StoreParams.RecordStep success(long runId, StoreParams.LeaseRef lease, String position, String stepId,
      String output, int completion) {
    return new StoreParams.RecordStep(runId, lease, position, stepId, StepStatus.SUCCESS, output, "java.lang.Integer",
        null, 1, null, null, completion, Duration.ofMillis(250));
  }

  private static StoreParams.RecordStep retry(long runId, StoreParams.LeaseRef lease, String position, String stepId,
      int attempts, Duration wakeAfter) {
    return new StoreParams.RecordStep(runId, lease, position, stepId, StepStatus.RETRY, null, null, "boom " + attempts,
        attempts, wakeAfter, null, 0, Duration.ofMillis(100));
  }

  private static StoreParams.RecordStep waiting(long runId, StoreParams.LeaseRef lease, String position,
      String stepId, @Nullable Duration wakeAfter, @Nullable String awaiting) {
    return new StoreParams.RecordStep(runId, lease, position, stepId, StepStatus.WAITING, null, null, null, 0,
        wakeAfter, awaiting, 0, Duration.ZERO);
  }

  private List<StoreResults.StepWritten> record(Instant at, StoreParams.RecordStep... steps) {
    return driver.recordSteps(new StoreParams.RecordSteps(List.of(steps), at)).block(T);
  }

  private static StoreResults.StepWritten written(RunStatus status) {
    return new StoreResults.StepWritten(true, status);
  }

  private static StoreResults.StepWritten refused(@Nullable RunStatus status) {
    return new StoreResults.StepWritten(false, status);
  }

  // ---------------------------------------------------------------- versions and triggers

  @Test
  void registeringAVersionedWorkflowCreatesItsVersionQueueOnce() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    String queue = versioned(wf, "v2", t);
    QueueInfo created = driver.findQueue(queue).block(T);
    assertThat(created).isNotNull();
    assertThat(created.maxAttempts()).isEqualTo(3);
    assertThat(driver.findQueue(wf).block(T).maxAttempts()).isEqualTo(3);
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(wf, queue, 9, t.plusSeconds(1))).block(T);
    assertThat(driver.findQueue(queue).block(T)).isEqualTo(created);
  }

  @Test
  void aVersionedRunRecordsItsVersionAndItsMessageGoesToTheVersionQueue() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    String queue = versioned(wf, "v2", t);
    StoreResults.Triggered triggered = trigger(wf, queue, "v2", null, null, null, t);
    assertThat(triggered).isEqualTo(new StoreResults.Triggered(triggered.runId(), true, null, null));
    assertThat(run(triggered.runId()).version()).isEqualTo("v2");
    assertThat(run(triggered.runId()).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(driver.claim(new StoreParams.Claim(wf, 10, LEASE, null, t)).block(T).claimed()).isEmpty();
    List<Message> claimed = driver.claim(new StoreParams.Claim(queue, 10, LEASE, null, t)).block(T).claimed();
    assertThat(claimed).singleElement()
        .satisfies(m -> assertThat(m.payload().path("run_id").asLong()).isEqualTo(triggered.runId()));

    long unversioned = trigger(wf, wf, null, null, null, null, t).runId();
    assertThat(run(unversioned).version()).isNull();
  }

  @Test
  void triggeringOnAMissingWorkflowOrQueueFails() {
    Instant t = start();
    String wf = rows.workflow(t);
    StepVerifier.create(driver.triggerRun(new StoreParams.TriggerRun(wf, wf + "@v9", "v9", "{}", null, null, null, t)))
        .expectError(WorkflowNotFoundException.class)
        .verify(T);
    String unknown = Rows.uniqueName("wf");
    StepVerifier.create(driver.triggerRun(new StoreParams.TriggerRun(unknown, wf, null, "{}", null, null, null, t)))
        .expectError(WorkflowNotFoundException.class)
        .verify(T);
    assertThat(driver.listRuns(new StoreParams.ListRuns(io.pgqrs.workflow.RunQuery.all().withWorkflow(wf)))
        .collectList().block(T)).isEmpty();
  }

  @Test
  void aTriggerWithALeaseInsertsTheRunBegunAndItsMessageLeasedAsAClaimWould() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    String queue = versioned(wf, "v1", t);
    long workerId = rows.worker(queue, t).id();
    List<String> wakeups = new CopyOnWriteArrayList<>();
    Disposable listening = driver.wakeups(queue).subscribe(wakeups::add);
    try {
      StoreResults.Triggered triggered = trigger(wf, queue, "v1", "k1", Duration.ofMinutes(5),
          new StoreParams.LeaseTaking(workerId, LEASE), t);
      assertThat(triggered.created()).isTrue();
      Message leased = triggered.leased();
      assertThat(leased).isNotNull();
      assertThat(leased.queue()).isEqualTo(queue);
      assertThat(leased.state()).isEqualTo(MessageState.LIVE);
      assertThat(leased.attempts()).isEqualTo(1);
      assertThat(leased.leaseOwner()).isEqualTo(workerId);
      assertThat(leased.leaseToken()).isNotNull();
      assertThat(leased.enqueuedAt()).isEqualTo(t);
      assertThat(leased.visibleAt()).isEqualTo(t.plus(LEASE));
      assertThat(leased.payload().path("run_id").asLong()).isEqualTo(triggered.runId());
      assertThat(driver.findMessage(leased.id()).block(T)).isEqualTo(leased);

      StoreResults.RunBegun begun = triggered.begun();
      assertThat(begun).isNotNull();
      assertThat(begun.history()).isEmpty();
      assertThat(begun.untilDeadline()).isEqualTo(Duration.ofMinutes(5));
      assertThat(begun.run()).isEqualTo(run(triggered.runId()));
      assertThat(begun.run().status()).isEqualTo(RunStatus.RUNNING);
      assertThat(begun.run().attempts()).isEqualTo(1);
      assertThat(begun.run().startedAt()).isEqualTo(t);
      assertThat(begun.run().version()).isEqualTo("v1");

      // Nobody else gets it, and its lease fences step records like a claimed one's.
      assertThat(driver.claim(new StoreParams.Claim(queue, 10, LEASE, null, t.plusSeconds(1))).block(T).claimed())
          .isEmpty();
      StoreParams.LeaseRef lease = new StoreParams.LeaseRef(leased.id(), leased.leaseToken(), null);
      assertThat(record(t.plusSeconds(1), success(triggered.runId(), lease, "1", "a", "1", 1)))
          .containsExactly(written(RunStatus.RUNNING));

      // The same key again creates nothing.
      int messages = driver.listMessages(new StoreParams.ListMessages(queue, MessageState.LIVE, 0, 100))
          .collectList().block(T).size();
      assertThat(trigger(wf, queue, "v1", "k1", null, new StoreParams.LeaseTaking(workerId, LEASE), t))
          .isEqualTo(new StoreResults.Triggered(triggered.runId(), false, null, null));
      assertThat(driver.listMessages(new StoreParams.ListMessages(queue, MessageState.LIVE, 0, 100))
          .collectList().block(T)).hasSize(messages);

      // Only the trigger without a lease woke the queue; emitted before its Mono completed.
      long visible = trigger(wf, queue, "v1", null, null, null, t).runId();
      assertThat(wakeups).containsExactly(queue);
      assertThat(run(visible).status()).isEqualTo(RunStatus.QUEUED);
    } finally {
      listening.dispose();
    }
  }

  @Test
  void aTriggeredLeaseWithoutTimeoutHasNoDeadline() {
    Instant t = start();
    String wf = rows.workflow(t);
    StoreResults.Triggered triggered = trigger(wf, wf, null, null, null,
        new StoreParams.LeaseTaking(rows.worker(wf, t).id(), Duration.ofSeconds(7)), t);
    assertThat(triggered.begun().untilDeadline()).isNull();
    assertThat(triggered.begun().run().deadline()).isNull();
    assertThat(triggered.leased().visibleAt()).isEqualTo(t.plusSeconds(7));
  }

  // ---------------------------------------------------------------- history

  @Test
  void beginningARunReadsItsRecordedStepsInCompletionThenPositionOrder() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StoreParams.LeaseRef lease = run.lease(null);
    String output = "{\"text\": \"é \\\"quoted\\\"\\n\\u0001 ✓ 𝄞\", \"n\": 12345678901234567}";
    assertThat(record(t,
        success(run.id(), lease, "2", "b", output, 2),
        new StoreParams.RecordStep(run.id(), lease, "1", "a", StepStatus.ERROR, null, null, "for good", 3, null, null,
            1, Duration.ZERO),
        retry(run.id(), lease, "4", "d", 2, Duration.ofSeconds(5)),
        waiting(run.id(), lease, "3", "c", Duration.ofSeconds(1), "approval"),
        waiting(run.id(), lease, "5", "e", null, "other")))
        .containsOnly(written(RunStatus.RUNNING)).hasSize(5);
    // A step begun under a step lease (before the run lease) is not recorded: not in the history.
    stepLeased(run.id(), "legacy", t);

    StoreResults.RunBegun begun = driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(2))).block(T);
    assertThat(begun.run().attempts()).isEqualTo(2);
    assertThat(begun.history()).containsExactly(
        new StoreResults.StepRecord("3", "c", StepStatus.WAITING, null, null, null, 0, Duration.ZERO, "approval", 0),
        new StoreResults.StepRecord("4", "d", StepStatus.RETRY, null, null, "boom 2", 2, Duration.ofSeconds(3), null,
            0),
        new StoreResults.StepRecord("5", "e", StepStatus.WAITING, null, null, null, 0, null, "other", 0),
        new StoreResults.StepRecord("1", "a", StepStatus.ERROR, null, null, "for good", 3, null, null, 1),
        new StoreResults.StepRecord("2", "b", StepStatus.SUCCESS, output, "java.lang.Integer", null, 1, null, null, 2));
    assertThat(Json.parse(begun.history().get(4).outputJson())).isEqualTo(Json.parse(output));
  }

  @Test
  void beginningARunWithoutStepsHasAnEmptyHistoryAndAMissingRunNone() {
    Instant t = start();
    Rows.Run run = rows.queuedRun(rows.workflow(t), t);
    StoreResults.RunBegun begun = driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t)).block(T);
    assertThat(begun.history()).isEmpty();
    assertThat(begun.run().status()).isEqualTo(RunStatus.RUNNING);
    assertThat(driver.beginRun(new StoreParams.BeginRun(Long.MAX_VALUE - 1, RunTransitions.BEGIN, t)).blockOptional(T)).isEmpty();
  }

  // ---------------------------------------------------------------- step records

  @Test
  void aRecordedStepIsListedWithItsPositionAndTimes() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    assertThat(record(t.plusSeconds(1), success(run.id(), run.lease(null), "1", "charge", "42", 1)))
        .containsExactly(written(RunStatus.RUNNING));
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "charge", StepStatus.SUCCESS, 1,
        Json.parse("42"), null, null, t.plusMillis(750), t.plusSeconds(1), t.plusSeconds(1), "1"));
  }

  @Test
  void aRetryOrAWaitIsOverwrittenButASuccessOrAnErrorNever() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StoreParams.LeaseRef lease = run.lease(null);
    assertThat(record(t, retry(run.id(), lease, "1", "s", 1, Duration.ofSeconds(2)),
        waiting(run.id(), lease, "2", "w", Duration.ofSeconds(10), "go"),
        new StoreParams.RecordStep(run.id(), lease, "3", "e", StepStatus.ERROR, null, null, "bad", 1, null, null, 1,
            Duration.ZERO)))
        .containsOnly(written(RunStatus.RUNNING)).hasSize(3);
    Instant later = t.plusSeconds(3);
    assertThat(record(later, success(run.id(), lease, "1", "s", "7", 2),
        // A wait replayed without a new due time keeps the one it had.
        waiting(run.id(), lease, "2", "w", null, "go"),
        success(run.id(), lease, "3", "e", "1", 3)))
        .containsExactly(written(RunStatus.RUNNING), written(RunStatus.RUNNING), refused(RunStatus.RUNNING));
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::attempts, StepInfo::error,
            StepInfo::wakeAt, StepInfo::startedAt, StepInfo::finishedAt)
        .containsExactly(
            tuple("s", StepStatus.SUCCESS, 1, null, null, t.minusMillis(100), later),
            tuple("w", StepStatus.WAITING, 0, null, t.plusSeconds(10), t, null),
            tuple("e", StepStatus.ERROR, 1, "bad", null, t, t));
    assertThat(record(later.plusSeconds(1), success(run.id(), lease, "1", "s", "8", 4)))
        .containsExactly(refused(RunStatus.RUNNING));
    assertThat(steps(run.id()).get(0).output()).isEqualTo(Json.parse("7"));
  }

  @Test
  void aStepLeftRunningByTheStepLeasesIsOverwritten() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    stepLeased(run.id(), "old", t);
    assertThat(record(t.plusSeconds(1), success(run.id(), run.lease(null), "1", "old", "3", 1)))
        .containsExactly(written(RunStatus.RUNNING));
    assertThat(steps(run.id())).singleElement().satisfies(s -> {
      assertThat(s.status()).isEqualTo(StepStatus.SUCCESS);
      assertThat(s.position()).isEqualTo("1");
      assertThat(s.startedAt()).isEqualTo(t);
    });
  }

  @Test
  void aRecordIsWrittenOnlyWhileTheRunsLeaseHoldsAndTheRunIsOpen() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run run = rows.runningRun(wf, t);
    StoreParams.LeaseRef lease = run.lease(null);
    StoreParams.LeaseRef forged = new StoreParams.LeaseRef(lease.messageId(), UUID.randomUUID(), null);
    Rows.Run other = rows.runningRun(wf, t);
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    Rows.Run finishedRun = rows.runningRun(wf, t);
    StoreParams.LeaseRef finishedLease = finishedRun.lease(null);
    assertThat(driver.finishRun(new StoreParams.FinishRun(finishedRun.id(), new StoreParams.LeaseRef(finishedLease.messageId(), finishedLease.token(), t),
        RunStatus.SUCCESS, RunTransitions.finish(RunStatus.SUCCESS), "1", null, t)).block(T)).isEqualTo(RunStatus.SUCCESS);

    assertThat(record(t.plusSeconds(1),
        success(run.id(), forged, "1", "forged", "1", 1),
        // The token of this run's lease on another message: message and token must match.
        success(run.id(), new StoreParams.LeaseRef(other.lease(null).messageId(), lease.token(), null), "2", "mixed",
            "1", 2),
        success(run.id(), lease, "3", "ok", "1", 3),
        success(other.id(), other.lease(null), "1", "ok", "1", 1),
        success(cancelling.id(), cancelling.lease(null), "1", "ok", "1", 1),
        success(finishedRun.id(), finishedLease, "1", "late", "1", 1),
        success(Long.MAX_VALUE - 1, lease, "1", "nowhere", "1", 1)))
        .containsExactly(refused(RunStatus.RUNNING), refused(RunStatus.RUNNING), written(RunStatus.RUNNING),
            written(RunStatus.RUNNING), written(RunStatus.CANCELLING), refused(RunStatus.SUCCESS), refused(null));
    assertThat(steps(run.id())).extracting(StepInfo::stepId).containsExactly("ok");
    assertThat(steps(finishedRun.id())).isEmpty();

    // Once the lease has expired by the store's clock, nothing is written.
    assertThat(record(t.plus(LEASE), success(run.id(), lease, "4", "expired", "1", 4)))
        .containsExactly(refused(RunStatus.RUNNING));
    assertThat(record(t.plus(LEASE).minusMillis(1), success(run.id(), lease, "4", "just", "1", 4)))
        .containsExactly(written(RunStatus.RUNNING));
  }

  @Test
  void anEmptyBatchWritesNothing() {
    assertThat(driver.recordSteps(new StoreParams.RecordSteps(List.of(), null)).block(T)).isEmpty();
  }

  @Test
  void aBatchIsAllOrNothingWhenAStatementFails() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StoreParams.LeaseRef lease = run.lease(null);
    // Two steps at one position: the unique position index refuses the second, and the batch rolls back.
    StepVerifier.create(driver.recordSteps(new StoreParams.RecordSteps(List.of(success(run.id(), lease, "1", "a",
            "1", 1), success(run.id(), lease, "1", "b", "1", 2)), t)))
        .expectError()
        .verify(T);
    assertThat(steps(run.id())).isEmpty();
  }

  // ---------------------------------------------------------------- signals

  private StoreResults.SignalTaken take(Rows.Run run, StoreParams.LeaseRef lease, String position, String stepId,
      int completion, Instant at) {
    return driver.takeSignal(new StoreParams.TakeSignal(run.id(), new StoreParams.LeaseRef(lease.messageId(), lease.token(), at), position, stepId, "approval",
        completion)).block(T);
  }

  @Test
  void takingASignalRecordsTheOldestAsTheStepsSuccessAndConsumesIt() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StoreParams.LeaseRef lease = run.lease(null);
    assertThat(take(run, lease, "2", "approval", 3, t)).isEqualTo(new StoreResults.SignalTaken(null, true));
    assertThat(record(t, waiting(run.id(), lease, "2", "approval", Duration.ofHours(1), "approval")))
        .containsExactly(written(RunStatus.RUNNING));
    driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "{\"ok\": 1}", t)).block(T);
    driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "{\"ok\": 2}", t)).block(T);

    StoreResults.SignalTaken taken = take(run, lease, "2", "approval", 3, t.plusSeconds(1));
    assertThat(taken.leaseHeld()).isTrue();
    assertThat(Json.parse(taken.valueJson())).isEqualTo(Json.parse("{\"ok\": 1}"));
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "approval", StepStatus.SUCCESS, 0,
        Json.parse("{\"ok\": 1}"), null, null, t, t.plusSeconds(1), t.plusSeconds(1), "2"));
    assertThat(driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(1))).block(T).history())
        .extracting(StoreResults.StepRecord::position, StoreResults.StepRecord::completion)
        .containsExactly(tuple("2", 3));

    // Recorded: the step is not taken again, and the next signal stays pending.
    assertThat(take(run, lease, "2", "approval", 4, t.plusSeconds(2))).isEqualTo(new StoreResults.SignalTaken(null,
        true));
    StoreResults.SignalTaken second = take(run, lease, "3", "approval#2", 4, t.plusSeconds(2));
    assertThat(Json.parse(second.valueJson())).isEqualTo(Json.parse("{\"ok\": 2}"));
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::position)
        .containsExactly(tuple("approval", "2"), tuple("approval#2", "3"));
  }

  @Test
  void aSignalIsNotTakenUnderALostLease() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StoreParams.LeaseRef lease = run.lease(null);
    driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "\"yes\"", t)).block(T);
    StoreParams.LeaseRef forged = new StoreParams.LeaseRef(lease.messageId(), UUID.randomUUID(), null);
    assertThat(take(run, forged, "1", "approval", 1, t)).isEqualTo(new StoreResults.SignalTaken(null, false));
    assertThat(take(run, lease, "1", "approval", 1, t.plus(LEASE))).isEqualTo(new StoreResults.SignalTaken(null,
        false));
    assertThat(steps(run.id())).isEmpty();
    assertThat(take(run, lease, "1", "approval", 1, t)).isEqualTo(new StoreResults.SignalTaken("\"yes\"", true));
  }

  @Test
  void aSignalOrAResumeWakesTheQueueOfTheRunsVersion() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    String queue = versioned(wf, "v4", t);
    long workerId = rows.worker(queue, t).id();
    List<String> wakeups = new CopyOnWriteArrayList<>();
    Disposable listening = driver.wakeups(queue).subscribe(wakeups::add);
    try {
      StoreResults.Triggered triggered = trigger(wf, queue, "v4", null, null,
          new StoreParams.LeaseTaking(workerId, LEASE), t);
      long runId = triggered.runId();
      StoreParams.LeaseRef lease = new StoreParams.LeaseRef(triggered.leased().id(), triggered.leased().leaseToken(),
          t);
      assertThat(record(t, waiting(runId, lease, "1", "wait", null, "go"))).containsExactly(written(RunStatus.RUNNING));
      assertThat(driver.suspendRun(new StoreParams.SuspendRun(runId, lease, Duration.ofHours(1), false, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T))
          .isTrue();
      // Paused and resumed while its message is parked: the resume makes it visible and wakes.
      driver.controlRun(RunTransitions.control(runId, StoreParams.RunControl.PAUSE, null, t.plusSeconds(1)))
          .block(T);
      driver.controlRun(RunTransitions.control(runId, StoreParams.RunControl.RESUME, null, t.plusSeconds(2)))
          .block(T);
      assertThat(wakeups).containsExactly(queue);

      // Claimed again and parked: the signal it waits for wakes it.
      Message again = driver.claim(new StoreParams.Claim(queue, 1, LEASE, workerId, t.plusSeconds(3))).block(T)
          .claimed().get(0);
      assertThat(again.id()).isEqualTo(triggered.leased().id());
      assertThat(driver.suspendRun(new StoreParams.SuspendRun(runId,
          new StoreParams.LeaseRef(again.id(), again.leaseToken(), t.plusSeconds(3)), Duration.ofHours(1), false, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED))
          .block(T)).isTrue();
      driver.signalRun(new StoreParams.SignalRun(runId, "go", "1", t.plusSeconds(4))).block(T);
      assertThat(wakeups).containsExactly(queue, queue);
    } finally {
      listening.dispose();
    }
  }

  // ---------------------------------------------------------------- the state machine's tables, applied as given

  /** A transition table of pairs: from, to, from, to, ... */
  private static StoreParams.Moves moves(RunStatus... pairs) {
    List<RunStatus> from = new ArrayList<>();
    List<RunStatus> to = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      from.add(pairs[i]);
      to.add(pairs[i + 1]);
    }
    return new StoreParams.Moves(from, to);
  }

  private Message message(Rows.Run run) {
    return driver.findMessage(run.lease(null).messageId()).block(T);
  }

  private RunInfo control(StoreParams.ControlRun control) {
    return driver.controlRun(control).block(T);
  }

  @Test
  void beginMovesOnlyTheStatusesItsTableNamesAndToTheirTargets() {
    Instant t = start();
    Rows.Run run = rows.queuedRun(rows.workflow(t), t);
    RunInfo untouched = driver.beginRun(new StoreParams.BeginRun(run.id(),
        moves(RunStatus.RUNNING, RunStatus.RUNNING), t.plusSeconds(1))).block(T).run();
    assertThat(untouched).extracting(RunInfo::status, RunInfo::attempts, RunInfo::startedAt)
        .containsExactly(RunStatus.QUEUED, 0, null);
    RunInfo moved = driver.beginRun(new StoreParams.BeginRun(run.id(), moves(RunStatus.QUEUED, RunStatus.PAUSED),
        t.plusSeconds(2))).block(T).run();
    assertThat(moved).extracting(RunInfo::status, RunInfo::attempts, RunInfo::startedAt)
        .containsExactly(RunStatus.PAUSED, 1, t.plusSeconds(2));
    assertThat(run(run.id())).isEqualTo(moved);
  }

  @Test
  void finishMovesByItsTableAndRecordsWhatItsTargetTakes() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run run = rows.runningRun(wf, t);
    // RUNNING is no source of this table: nothing changes, the message stays leased.
    StepVerifier.create(driver.finishRun(new StoreParams.FinishRun(run.id(), run.lease(t), RunStatus.ERROR,
            moves(RunStatus.QUEUED, RunStatus.ERROR), null, "boom", t.plusSeconds(1))))
        .expectComplete()
        .verify(T);
    assertThat(run(run.id()).status()).isEqualTo(RunStatus.RUNNING);
    assertThat(message(run).state()).isEqualTo(MessageState.LIVE);

    // An error reported, the table moving the run to CANCELLED: the error is not recorded.
    assertThat(driver.finishRun(new StoreParams.FinishRun(run.id(), run.lease(t), RunStatus.ERROR,
        moves(RunStatus.RUNNING, RunStatus.CANCELLED), null, "boom", t.plusSeconds(2))).block(T))
        .isEqualTo(RunStatus.CANCELLED);
    assertThat(run(run.id())).extracting(RunInfo::status, RunInfo::output, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, null, null, t.plusSeconds(2));
    assertThat(message(run).state()).isEqualTo(MessageState.ARCHIVED);

    // A cancel reported, the table moving the run to ERROR: the error given is recorded.
    Rows.Run failed = rows.runningRun(wf, t);
    assertThat(driver.finishRun(new StoreParams.FinishRun(failed.id(), failed.lease(t), RunStatus.CANCELLED,
        moves(RunStatus.RUNNING, RunStatus.ERROR), null, "why", t.plusSeconds(3))).block(T))
        .isEqualTo(RunStatus.ERROR);
    assertThat(run(failed.id())).extracting(RunInfo::status, RunInfo::output, RunInfo::error)
        .containsExactly(RunStatus.ERROR, null, "why");

    // An outcome and a target of SUCCESS: the output is recorded.
    Rows.Run succeeded = rows.runningRun(wf, t);
    assertThat(driver.finishRun(new StoreParams.FinishRun(succeeded.id(), succeeded.lease(t), RunStatus.SUCCESS,
        moves(RunStatus.RUNNING, RunStatus.SUCCESS), "{\"n\": 1}", null, t.plusSeconds(4))).block(T))
        .isEqualTo(RunStatus.SUCCESS);
    assertThat(run(succeeded.id())).extracting(RunInfo::status, RunInfo::output, RunInfo::error)
        .containsExactly(RunStatus.SUCCESS, Json.parse("{\"n\": 1}"), null);
  }

  @Test
  void aControlTakesTheUnstartedTableForARunNoWorkerBegan() {
    Instant t = start();
    Rows.Run run = rows.queuedRun(rows.workflow(t), t);
    RunInfo after = control(new StoreParams.ControlRun(run.id(), StoreParams.RunControl.RESUME,
        moves(RunStatus.QUEUED, RunStatus.CANCELLED), moves(RunStatus.QUEUED, RunStatus.CANCELLING),
        moves(RunStatus.QUEUED, RunStatus.PAUSED), List.of(), null, t.plusSeconds(1)));
    assertThat(after).extracting(RunInfo::status, RunInfo::finishedAt).containsExactly(RunStatus.PAUSED, null);
    assertThat(run(run.id())).isEqualTo(after);
  }

  @Test
  void aControlTakesTheHeldTableWhileAWorkerHoldsTheRunAndItsMovesOnceTheLeaseEnded() {
    Instant t = start();
    String wf = rows.workflow(t);
    StoreParams.Moves free = moves(RunStatus.RUNNING, RunStatus.PAUSED);
    StoreParams.Moves held = moves(RunStatus.RUNNING, RunStatus.CANCELLING);
    // A begun run: the unstarted table is not taken.
    StoreParams.Moves unstarted = moves(RunStatus.RUNNING, RunStatus.QUEUED);
    Rows.Run holding = rows.runningRun(wf, t);
    assertThat(control(new StoreParams.ControlRun(holding.id(), StoreParams.RunControl.PAUSE, free, held, unstarted,
        List.of(), null, t.plusSeconds(1))).status()).isEqualTo(RunStatus.CANCELLING);
    assertThat(message(holding).state()).isEqualTo(MessageState.LIVE);

    Rows.Run expired = rows.runningRun(wf, t);
    assertThat(control(new StoreParams.ControlRun(expired.id(), StoreParams.RunControl.PAUSE, free, held, unstarted,
        List.of(), null, t.plus(LEASE))).status()).isEqualTo(RunStatus.PAUSED);
  }

  @Test
  void aControlLeavesAnUnchangedStatusAloneAndRefusesOneItsTableDoesNotMove() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    RunInfo before = run(run.id());
    assertThat(control(new StoreParams.ControlRun(run.id(), StoreParams.RunControl.CANCEL,
        moves(RunStatus.RUNNING, RunStatus.CANCELLED), null, null, List.of(RunStatus.RUNNING), "stop",
        t.plusSeconds(1)))).isEqualTo(before);
    StepVerifier.create(driver.controlRun(new StoreParams.ControlRun(run.id(), StoreParams.RunControl.RESUME,
            moves(RunStatus.PAUSED, RunStatus.RUNNING), moves(RunStatus.PAUSED, RunStatus.RUNNING), null,
            List.of(RunStatus.CANCELLED), null, t.plusSeconds(1))))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(RunStateException.class)
            .hasMessageContaining(String.valueOf(run.id())).hasMessageContaining("RUNNING"))
        .verify(T);
    assertThat(run(run.id())).isEqualTo(before);
    assertThat(message(run)).extracting(Message::state, Message::leaseToken)
        .containsExactly(MessageState.LIVE, run.message().leaseToken());
  }

  @Test
  void aPauseRecordsItsReasonAsTheRunsErrorAndOneWithoutKeepsIt() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    RunInfo paused = control(RunTransitions.control(run.id(), StoreParams.RunControl.PAUSE,
        "the run's version is not deployed", t.plusSeconds(1)));
    assertThat(paused).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.PAUSED, "the run's version is not deployed", null);
    RunInfo resumed = control(RunTransitions.control(run.id(), StoreParams.RunControl.RESUME, null, t.plusSeconds(2)));
    assertThat(resumed).extracting(RunInfo::status, RunInfo::error)
        .containsExactly(RunStatus.RUNNING, "the run's version is not deployed");
    RunInfo again = control(RunTransitions.control(run.id(), StoreParams.RunControl.PAUSE, null, t.plusSeconds(3)));
    assertThat(again).extracting(RunInfo::status, RunInfo::error)
        .containsExactly(RunStatus.PAUSED, "the run's version is not deployed");
  }

  @Test
  void aControlThatMovesARunToCancelledArchivesItsLiveMessageAndAnnouncesTheEndWhoeverHoldsIt() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    StepVerifier.create(driver.runsFinished().filter(id -> id == run.id()).next())
        .then(() -> assertThat(control(new StoreParams.ControlRun(run.id(), StoreParams.RunControl.CANCEL,
                moves(RunStatus.RUNNING, RunStatus.CANCELLED), null, null, List.of(), "stop", t.plusSeconds(1))))
            .extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
            .containsExactly(RunStatus.CANCELLED, "stop", t.plusSeconds(1)))
        .expectNext(run.id())
        .expectComplete()
        .verify(T);
    assertThat(message(run)).extracting(Message::state, Message::archivedAt)
        .containsExactly(MessageState.ARCHIVED, t.plusSeconds(1));
  }

  @Test
  void aControlThatMovesARunOnFromPausedMakesItsMessageVisibleAndWakesItsQueueAndNoOtherMoveDoes() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run paused = rows.runningRun(wf, t);
    Rows.Run parked = rows.runningRun(wf, t);
    List<String> wakeups = new CopyOnWriteArrayList<>();
    Disposable listening = driver.wakeups(wf).subscribe(wakeups::add);
    try {
      // A started run paused and parked: moved on to QUEUED by a control's own table.
      control(RunTransitions.control(paused.id(), StoreParams.RunControl.PAUSE, null, t));
      assertThat(driver.suspendRun(new StoreParams.SuspendRun(paused.id(), paused.lease(t), null, false,
          RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T)).isTrue();
      assertThat(message(paused).visibleAt()).isEqualTo(SqliteDriver.instant(Long.MAX_VALUE));
      assertThat(control(new StoreParams.ControlRun(paused.id(), StoreParams.RunControl.RESUME,
          moves(RunStatus.PAUSED, RunStatus.QUEUED), null, null, List.of(), null, t.plusSeconds(1))).status())
          .isEqualTo(RunStatus.QUEUED);
      assertThat(message(paused).visibleAt()).isEqualTo(t.plusSeconds(1));
      assertThat(wakeups).containsExactly(wf);

      // A running run parked for an hour and moved to QUEUED: not from PAUSED, so it stays parked.
      assertThat(driver.suspendRun(new StoreParams.SuspendRun(parked.id(), parked.lease(t), Duration.ofHours(1), false,
          RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T)).isTrue();
      assertThat(control(new StoreParams.ControlRun(parked.id(), StoreParams.RunControl.RESUME,
          moves(RunStatus.RUNNING, RunStatus.QUEUED), null, null, List.of(), null, t.plusSeconds(1))).status())
          .isEqualTo(RunStatus.QUEUED);
      assertThat(message(parked).visibleAt()).isEqualTo(t.plus(Duration.ofHours(1)));
      assertThat(wakeups).containsExactly(wf);
    } finally {
      listening.dispose();
    }
  }

  @Test
  void suspendParksAMessageByTheStatusListsItIsGiven() {
    Instant t = start();
    String wf = rows.workflow(t);
    Duration hour = Duration.ofHours(1);
    Rows.Run atOnce = rows.runningRun(wf, t);
    Rows.Run untilResumed = rows.runningRun(wf, t);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(untilResumed.id(), untilResumed.lease(t), hour, false,
        List.of(), List.of(RunStatus.RUNNING))).block(T)).isTrue();
    assertThat(message(untilResumed).visibleAt()).isEqualTo(SqliteDriver.instant(Long.MAX_VALUE));

    Rows.Run later = rows.runningRun(wf, t);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(later.id(), later.lease(t), hour, false,
        List.of(RunStatus.PAUSED, RunStatus.CANCELLING), List.of(RunStatus.QUEUED))).block(T)).isTrue();
    assertThat(message(later).visibleAt()).isEqualTo(t.plus(hour));

    assertThat(driver.suspendRun(new StoreParams.SuspendRun(atOnce.id(), atOnce.lease(t), hour, false,
        List.of(RunStatus.RUNNING), List.of())).block(T)).isTrue();
    assertThat(message(atOnce).visibleAt()).isEqualTo(t);
  }

  @Test
  void theReaperEndsOnlyTheRunsItsTableMovesAndAsItSays() {
    Instant t = start();
    String wf = rows.workflow(t);
    long runId = trigger(wf, wf, null, null, Duration.ofSeconds(1), null, t).runId();
    Instant late = t.plusSeconds(2);
    // Past its deadline, nobody holding it, but QUEUED is no source of this table.
    driver.reapRuns(new StoreParams.ReapRuns(100, moves(RunStatus.RUNNING, RunStatus.ERROR), late)).block(T);
    assertThat(run(runId).status()).isEqualTo(RunStatus.QUEUED);

    assertThat(driver.reapRuns(new StoreParams.ReapRuns(100, moves(RunStatus.QUEUED, RunStatus.CANCELLED), late))
        .block(T)).isPositive();
    // Moved to CANCELLED, not ERROR: no error recorded.
    assertThat(run(runId)).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, null, late);
    List<Message> archived = driver.listMessages(new StoreParams.ListMessages(wf, MessageState.ARCHIVED, 0, 10))
        .collectList().block(T);
    assertThat(archived).singleElement()
        .satisfies(m -> assertThat(m.payload().path("run_id").asLong()).isEqualTo(runId));

    long failed = trigger(wf, wf, null, null, Duration.ofSeconds(1), null, t).runId();
    assertThat(driver.reapRuns(new StoreParams.ReapRuns(100, moves(RunStatus.QUEUED, RunStatus.ERROR), late))
        .block(T)).isPositive();
    assertThat(run(failed)).extracting(RunInfo::status, RunInfo::error)
        .containsExactly(RunStatus.ERROR, "the run timed out: its deadline passed");
  }

  // ---------------------------------------------------------------- findRuns

  @Test
  void findRunsReadsTheRunsThatExist() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    String queue = versioned(wf, "v3", t);
    long a = trigger(wf, queue, "v3", null, null, null, t).runId();
    long b = trigger(wf, wf, null, null, null, null, t).runId();
    assertThat(driver.findRuns(List.of(a, b, Long.MAX_VALUE - 1)).collectList().block(T))
        .containsExactlyInAnyOrder(run(a), run(b))
        .extracting(RunInfo::version).containsExactlyInAnyOrder("v3", null);
    assertThat(driver.findRuns(List.of()).collectList().block(T)).isEmpty();
  }
}
