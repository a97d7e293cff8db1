package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.pgqrs.admin.SchemaReport;
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
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Upgrading a database installed by an older release: before the class, the migrations up to
 * {@link #oldVersion()} make the schema, rows of every table are written and read back, and
 * {@code install()} applies the later migrations, among them the one that rebuilds the tables so
 * that no id is handed out twice and the one that gives runs a version and steps a position and a
 * completion order. Queues and workers are written through the driver; messages (enqueued and
 * leased), runs, signals and the steps the step leases of older releases left, in the columns of the
 * old schema (see {@code upgrade/old_rows.sql}), since the driver's statements of those tables name
 * columns the old schema lacks and it no longer leases steps; archiving and dead-lettering go
 * through the driver. The tests then find every row as it was, under its id, the schema whole, the old
 * steps numbered in the order they were begun and readable as a run's history, and new ids above
 * the old ones, never reusing a deleted one. Each test writes only rows of its own, so they run in
 * any order. One subclass per way of reaching SQLite names a fresh, empty database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SqliteUpgradeContract {

  /** Upper bound of every blocking wait. */
  protected static final Duration T = Rows.TIMEOUT;

  /** The migration that rebuilds the tables with AUTOINCREMENT. */
  private static final String REBUILD = "V005__ids_never_reused.sql";

  /** The statements writing and reading rows in the columns of the old schema. */
  private static final SqlStatements OLD = SqlStatements.load(SqliteUpgradeContract.class,
      List.of("/io/pgqrs/sqlite/upgrade/old_rows.sql"), Map.of());

  /** The tables whose rows are compared before and after the upgrade, by their statements in {@link #OLD}. */
  private static final List<String> TABLES =
      List.of("queues", "workers", "messages", "workflows", "runs", "steps", "signals");

  /** The driver, on the upgraded database. */
  protected StoreDriver driver;

  private Rows rows;
  private Instant t;

  // The rows written before the upgrade, as read back then.
  private QueueInfo queue;
  private List<Message> messages;
  private WorkerInfo worker;
  private OldRun run;
  private long queuedRun;
  private OldRun recordingRun;
  private String doomedWorkflow;
  private long doomedRun;
  /** Every row of {@link #TABLES} before the upgrade, and right after it. */
  private Map<String, List<SqlRow>> before;
  private Map<String, List<SqlRow>> after;
  // Rows the tests change, apart from the ones above: a leased message and a run whose waiting
  // step has its signal pending.
  private StoreParams.LeaseRef lease;
  private OldRun waitingRun;
  private long highestMessageId;
  // A queue of its own whose first message was leased before the upgrade and the second enqueued
  // after that lease was taken.
  private String orderQueue;
  private long leasedFirst;
  private long enqueuedSecond;
  private long highestQueueId;

  /** A run written in the old schema, its message, and the message's lease when a worker claimed it. */
  private record OldRun(long id, String workflow, long messageId, StoreParams.@Nullable LeaseRef lease) {}

  /**
   * The DSN of an empty database, used for the whole class.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  /**
   * The version the database is installed at before the upgrade; by default the last one whose
   * tables reused the id of a deleted last row.
   *
   * @return the version, below the rebuild's
   */
  protected int oldVersion() {
    return SqliteDriver.MIGRATION_FILES.indexOf(REBUILD);
  }

  private SqlExecutor db() {
    return ((SqliteDriver) driver).executor();
  }

  /** A queue created at {@code at} in the old schema, with a unique name. */
  private String oldQueue(Instant at) {
    String name = Rows.uniqueName("q");
    assertThat(db().statements("old queue", s -> s.update(OLD.get("insert_queue"), name, Rows.MAX_ATTEMPTS,
        SqliteDriver.micros(at))).block(T)).isEqualTo(1L);
    return name;
  }

  /** A queue as read in the old schema. */
  private QueueInfo oldFindQueue(String name) {
    SqlRow r = db().statements("old find queue", s -> s.query(OLD.get("find_queue"), name)).block(T).get(0);
    return new QueueInfo(r.longValue("id"), r.string("name"), r.intValue("max_attempts"),
        Instant.EPOCH.plus(r.longValue("created_at"), ChronoUnit.MICROS));
  }

  /** A live message enqueued at {@code at} in the old schema. */
  private long oldMessage(String queue, Instant at) {
    return db().transaction("old message", s -> s.query(OLD.get("insert_message"), queue, Rows.payload(0),
        SqliteDriver.micros(at)).map(r -> r.get(0).longValue("id"))).block(T);
  }

  /** Leases a live message at {@code at} for {@code lease}, as a claim of the old schema did. */
  private Message oldLease(long id, Duration lease, @Nullable Long owner, Instant at) {
    assertThat(db().statements("old lease", s -> s.update(OLD.get("lease_message"), id, UUID.randomUUID().toString(),
        owner, SqliteDriver.micros(at.plus(lease)))).block(T)).isEqualTo(1L);
    return oldFindMessage(id);
  }

  /** A message as read in the old schema (the driver's statements read columns it lacks). */
  private Message oldFindMessage(long id) {
    SqlRow r = db().statements("old find message", s -> s.query(OLD.get("find_message"), id)).block(T).get(0);
    return SqliteDriver.message(r, r.string("queue"));
  }

  /** A message enqueued and leased at {@code at} in the old schema. */
  private Message oldLeasedMessage(String queue, Duration lease, @Nullable Long owner, Instant at) {
    return oldLease(oldMessage(queue, at), lease, owner, at);
  }

  /** A message leased a second before {@code at} and archived with its lease at {@code at}. */
  private Message oldArchivedMessage(String queue, Instant at) {
    Message m = oldLeasedMessage(queue, Rows.LEASE, null, at.minusSeconds(1));
    assertThat(driver.archive(new StoreParams.LeaseRef(m.id(), Rows.lease(m), at)).block(T)).isTrue();
    return oldFindMessage(m.id());
  }

  /** A message leased a second before {@code at} and dead-lettered with its lease at {@code at}. */
  private Message oldDeadMessage(String queue, Instant at) {
    Message m = oldLeasedMessage(queue, Rows.LEASE, null, at.minusSeconds(1));
    assertThat(driver.deadLetter(new StoreParams.DeadLetter(new StoreParams.LeaseRef(m.id(), Rows.lease(m), at),
        "max attempts reached")).block(T)).isTrue();
    return oldFindMessage(m.id());
  }

  /** A QUEUED run and its trigger message, as triggering wrote them in the old schema. */
  private OldRun queuedRun(String workflow, Instant at) {
    long micros = SqliteDriver.micros(at);
    long[] ids = db().transaction("old run", s -> s.query(OLD.get("insert_run"), workflow, "{\"order\": 1}", micros)
        .map(r -> r.get(0).longValue("id"))
        .flatMap(runId -> s.query(OLD.get("insert_run_message"), workflow, runId, micros)
            .map(m -> m.get(0).longValue("id"))
            .flatMap(messageId -> s.update(OLD.get("link_run_message"), runId, messageId)
                .thenReturn(new long[] {runId, messageId})))).block(T);
    return new OldRun(ids[0], workflow, ids[1], null);
  }

  /** A run a worker began in the old schema: its message leased under {@link Rows#LEASE}. */
  private OldRun runningRun(String workflow, Instant at) {
    OldRun queued = queuedRun(workflow, at);
    Message m = oldLease(queued.messageId(), Rows.LEASE, null, at);
    assertThat(m.payload().path("run_id").asLong()).isEqualTo(queued.id());
    db().statements("old begin", s -> s.update(OLD.get("begin_run"), queued.id(), SqliteDriver.micros(at))).block(T);
    return new OldRun(queued.id(), workflow, m.id(), new StoreParams.LeaseRef(m.id(), Rows.lease(m), null));
  }

  /** A step whose execution under a step lease, begun and ended at {@link #t}, recorded this. */
  private void oldStep(long runId, String stepId, StepStatus status, @Nullable String output,
      @Nullable String error, @Nullable Duration wakeAfter, @Nullable String awaiting) {
    Long wakeAt = wakeAfter == null ? null : SqliteDriver.micros(t.plus(wakeAfter));
    assertThat(db().statements("old step", s -> s.update(OLD.get("insert_step"), runId, stepId, status.name(), output,
        output == null ? null : "java.util.Map", error, wakeAt, awaiting, SqliteDriver.micros(t))).block(T))
        .isEqualTo(1L);
  }

  /** A step a worker holds under a step lease taken at {@link #t}. */
  private void oldStepLeased(long runId, String stepId) {
    assertThat(db().statements("old step lease", s -> s.update(OLD.get("insert_running_step"), runId, stepId,
        UUID.randomUUID().toString(), SqliteDriver.micros(t.plus(Rows.LEASE)), SqliteDriver.micros(t))).block(T))
        .isEqualTo(1L);
  }

  private Map<String, List<SqlRow>> everyRow() {
    return db().statements("read every row", s -> Flux.fromIterable(TABLES)
            .concatMap(table -> s.query(OLD.get(table)).map(tableRows -> Map.entry(table, tableRows)))
            .collectMap(Map.Entry::getKey, Map.Entry::getValue))
        .block(T);
  }

  @BeforeAll
  void installTheOldSchemaWriteRowsAndUpgrade() {
    driver = DriverConformance.open(dsn());
    assertThat(oldVersion()).isBetween(1, SqliteDriver.MIGRATION_FILES.indexOf(REBUILD));
    ((SqliteDriver) driver).migrate(oldVersion()).block(T);
    assertThat(driver.verify().block(T).installedVersion()).isEqualTo(oldVersion());
    rows = new Rows(driver);
    t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    String q = oldQueue(t);
    worker = rows.worker(q, t);
    Message leased = oldLeasedMessage(q, Rows.LEASE, worker.id(), t);
    Message archived = oldArchivedMessage(q, t);
    Message dead = oldDeadMessage(q, t);
    Message live = oldFindMessage(oldMessage(q, t.plusSeconds(1)));
    queue = oldFindQueue(q);
    String probeQueue = oldQueue(t);
    Message probe = oldLeasedMessage(probeQueue, Rows.LEASE, null, t);
    lease = new StoreParams.LeaseRef(probe.id(), Rows.lease(probe), t);
    orderQueue = oldQueue(t);
    leasedFirst = oldLeasedMessage(orderQueue, Rows.LEASE, null, t).id();
    enqueuedSecond = oldMessage(orderQueue, t.plusSeconds(1));

    String wf = rows.workflow(t);
    run = runningRun(wf, t);
    oldStep(run.id(), "charge", StepStatus.SUCCESS, "{\"paid\": 12}", null, null, null);
    oldStep(run.id(), "approval", StepStatus.WAITING, null, null, null, "approval");
    oldStep(run.id(), "ship", StepStatus.ERROR, null, "no address", null, null);
    recordingRun = runningRun(wf, t);
    oldStep(recordingRun.id(), "first", StepStatus.SUCCESS, "{\"n\": 1}", null, null, null);
    oldStep(recordingRun.id(), "again", StepStatus.RETRY, null, "later", Duration.ofSeconds(1), null);
    queuedRun = queuedRun(wf, t).id();

    String waitingWorkflow = rows.workflow(t);
    waitingRun = runningRun(waitingWorkflow, t);
    oldStep(waitingRun.id(), "approval", StepStatus.WAITING, null, null, null, "approval");
    db().statements("old signal", s -> s.update(OLD.get("insert_signal"), waitingRun.id(), "approval",
        "{\"ok\": true}", SqliteDriver.micros(t))).block(T);

    doomedWorkflow = rows.workflow(t);
    doomedRun = runningRun(doomedWorkflow, t).id();
    oldStepLeased(doomedRun, "step");

    messages = Stream.of(q, wf, doomedWorkflow)
        .flatMap(name -> Stream.of(MessageState.values()).flatMap(state -> listMessages(name, state).stream()))
        .toList();
    assertThat(messages).extracting(Message::id)
        .contains(live.id(), leased.id(), archived.id(), dead.id(), run.lease().messageId());
    highestMessageId = Stream.of(q, probeQueue, orderQueue, wf, waitingWorkflow, doomedWorkflow)
        .flatMap(name -> Stream.of(MessageState.values()).flatMap(state -> listMessages(name, state).stream()))
        .mapToLong(Message::id).max().orElseThrow();
    highestQueueId = db().statements("old highest queue", s -> s.query(OLD.get("highest_queue_id"))).block(T).get(0)
        .longValue("id");
    before = everyRow();

    driver.install().block(T);
    after = everyRow();
  }

  @AfterAll
  void closeDriver() {
    if (driver != null) {
      driver.close().block(T);
    }
  }

  /** The messages of a queue in a state, as read in the old schema. */
  private List<Message> listMessages(String queueName, MessageState state) {
    return db().statements("old list messages", s -> s.query(OLD.get("list_messages"), queueName,
            state.name().toLowerCase(java.util.Locale.ROOT))).block(T).stream()
        .map(r -> SqliteDriver.message(r, queueName)).toList();
  }

  @Test
  void theUpgradedSchemaIsWholeAndAtTheLatestVersion() {
    SchemaReport report = driver.verify().block(T);
    assertThat(report.missing()).isEmpty();
    assertThat(report.installedVersion()).isEqualTo(SqliteDriver.MIGRATION_FILES.size())
        .isEqualTo(report.expectedVersion());
    assertThat(report.isValid()).isTrue();
  }

  @Test
  void everyRowKeepsItsIdAndItsContent() {
    assertThat(driver.findQueue(queue.name()).block(T)).isEqualTo(queue);
    assertThat(driver.findWorker(worker.id()).block(T)).isEqualTo(worker);
    Map<Long, Message> byId = messages.stream().collect(Collectors.toMap(Message::id, m -> m));
    for (Message m : messages) {
      assertThat(driver.findMessage(m.id()).block(T)).isEqualTo(byId.get(m.id()));
    }
    for (String table : TABLES) {
      List<SqlRow> old = before.get(table);
      assertThat(old).as(table).isNotEmpty();
      // The columns the old schema had, row for row; later migrations only add columns.
      assertThat(after.get(table)).as(table)
          .map(row -> new SqlRow(row.values().entrySet().stream()
              .filter(e -> old.get(0).values().containsKey(e.getKey()))
              .collect(java.util.HashMap<String, @Nullable Object>::new, (m, e) -> m.put(e.getKey(), e.getValue()),
                  java.util.HashMap::putAll)))
          .isEqualTo(old);
    }
  }

  @Test
  void theOldRunsAreReadWithoutAVersion() {
    assertThat(after.get("runs")).allSatisfy(r -> assertThat(r.get("version")).isNull());
    RunInfo found = driver.findRun(run.id()).block(T);
    assertThat(found).extracting(RunInfo::workflow, RunInfo::status, RunInfo::input, RunInfo::startedAt,
            RunInfo::deadline, RunInfo::version)
        .containsExactly(run.workflow(), RunStatus.RUNNING, Json.parse("{\"order\": 1}"), t, null, null);
    assertThat(driver.findRuns(List.of(run.id(), queuedRun)).map(RunInfo::status).collectList().block(T))
        .containsExactlyInAnyOrder(RunStatus.RUNNING, RunStatus.QUEUED);
  }

  @Test
  void theOldStepsArePositionedInTheOrderTheyWereBegunAndTheFinishedOnesCompletedSo() {
    assertThat(after.get("steps")).filteredOn(r -> r.longValue("run_id") == run.id())
        .extracting(r -> r.string("step_id"), r -> r.string("position"), r -> r.longValue("completion"))
        .containsExactly(tuple("approval", "2", 0L), tuple("charge", "1", 1L), tuple("ship", "3", 3L));
    assertThat(driver.listSteps(run.id()).collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::status, StepInfo::position)
        .containsExactly(tuple("charge", StepStatus.SUCCESS, "1"), tuple("approval", StepStatus.WAITING, "2"),
            tuple("ship", StepStatus.ERROR, "3"));
    assertThat(driver.listSteps(doomedRun).collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::status, StepInfo::position)
        .containsExactly(tuple("step", StepStatus.RUNNING, "1"));
  }

  @Test
  void theOldStepsAreTheHistoryOfTheirRunBegunAfterTheUpgrade() {
    StoreResults.RunBegun begun = driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(1))).block(T);
    assertThat(begun.run().status()).isEqualTo(RunStatus.RUNNING);
    assertThat(begun.history()).containsExactly(
        new StoreResults.StepRecord("2", "approval", StepStatus.WAITING, null, null, null, 1, null, "approval", 0),
        new StoreResults.StepRecord("1", "charge", StepStatus.SUCCESS, "{\"paid\": 12}", "java.util.Map", null, 1,
            null, null, 1),
        new StoreResults.StepRecord("3", "ship", StepStatus.ERROR, null, null, "no address", 1, null, null, 3));
  }

  @Test
  void anOldRunRecordsItsStepsUnderItsLeaseAfterTheUpgrade() {
    StoreParams.LeaseRef held = recordingRun.lease();
    Instant later = t.plusSeconds(2);
    assertThat(driver.recordSteps(new StoreParams.RecordSteps(List.of(
        new StoreParams.RecordStep(recordingRun.id(), held, "2", "again", StepStatus.SUCCESS, "5", null, null, 2, null,
            null, 2, Duration.ZERO),
        new StoreParams.RecordStep(recordingRun.id(), held, "3", "next", StepStatus.SUCCESS, "6", null, null, 1, null,
            null, 3, Duration.ZERO),
        new StoreParams.RecordStep(recordingRun.id(), held, "9", "first", StepStatus.SUCCESS, "7", null, null, 1, null,
            null, 4, Duration.ZERO)), later)).block(T))
        .extracting(StoreResults.StepWritten::written).containsExactly(true, true, false);
    assertThat(driver.listSteps(recordingRun.id()).collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::status, StepInfo::position, StepInfo::output)
        .containsExactly(tuple("first", StepStatus.SUCCESS, "1", Json.parse("{\"n\": 1}")),
            tuple("again", StepStatus.SUCCESS, "2", Json.parse("5")), tuple("next", StepStatus.SUCCESS, "3",
                Json.parse("6")));
    // A position names one step of a run: the index made by the upgrade refuses a second.
    StepVerifier.create(driver.recordSteps(new StoreParams.RecordSteps(List.of(new StoreParams.RecordStep(
            recordingRun.id(), held, "1", "other", StepStatus.SUCCESS, "8", null, null, 1, null, null, 5,
            Duration.ZERO)), later)))
        .expectError()
        .verify(T);
  }

  @Test
  void leasesAndSignalsWrittenBeforeTheUpgradeStillWork() {
    assertThat(driver.archive(lease).block(T)).isTrue();
    // The run's message was claimed before the upgrade; its lease fences the signal's step record.
    StoreParams.LeaseRef held = waitingRun.lease();
    Instant later = t.plusSeconds(1);
    StoreResults.SignalTaken taken = driver.takeSignal(new StoreParams.TakeSignal(waitingRun.id(),
        new StoreParams.LeaseRef(held.messageId(), held.token(), later), "1", "approval", "approval", 1)).block(T);
    assertThat(taken.leaseHeld()).isTrue();
    assertThat(Json.parse(taken.valueJson())).isEqualTo(Json.parse("{\"ok\": true}"));
    // Recorded over the old wait, at the position the upgrade gave it.
    assertThat(driver.listSteps(waitingRun.id()).collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::status, StepInfo::position, StepInfo::output)
        .containsExactly(tuple("approval", StepStatus.SUCCESS, "1", Json.parse("{\"ok\": true}")));
  }

  @Test
  void aMessageLeasedBeforeTheUpgradeComesBackAtItsEnqueuePlaceWhenItsLeaseExpires() {
    // Its lease ran until t + LEASE, long after the second message was due; the upgrade gave it its
    // enqueue time as its place in the claim order.
    Instant afterExpiry = t.plus(Rows.LEASE).plusSeconds(1);
    assertThat(driver.claim(new StoreParams.Claim(orderQueue, 2, Rows.LEASE, null, afterExpiry)).block(T).claimed())
        .extracting(Message::id).containsExactly(leasedFirst, enqueuedSecond);
  }

  @Test
  void newIdsGoOnAboveTheOldOnesAndADeletedIdIsNeverHandedOutAgain() {
    String fresh = rows.queue(t);
    assertThat(driver.findQueue(fresh).block(T).id()).isGreaterThan(highestQueueId);
    Message next = rows.leasedMessage(fresh, t);
    assertThat(next.id()).isGreaterThan(highestMessageId);
    assertThat(driver.delete(new StoreParams.LeaseRef(next.id(), Rows.lease(next), t)).block(T)).isTrue();
    assertThat(rows.liveMessage(fresh, t).id()).isGreaterThan(next.id());

    WorkerInfo newWorker = rows.worker(null, t);
    assertThat(newWorker.id()).isGreaterThan(worker.id());
    assertThat(driver.deleteWorker(newWorker.id()).block(T)).isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(rows.worker(null, t).id()).isGreaterThan(newWorker.id());

    assertThat(rows.queuedRun(run.workflow(), t).id()).isGreaterThan(doomedRun);
  }

  @Test
  void foreignKeysStillCascadeFromTheRebuiltTables() {
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(doomedWorkflow, true)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findRun(doomedRun).blockOptional(T)).isEmpty();
    assertThat(driver.listSteps(doomedRun).collectList().block(T)).isEmpty();
    assertThat(messages).filteredOn(m -> m.queue().equals(doomedWorkflow)).isNotEmpty()
        .allSatisfy(m -> assertThat(driver.findMessage(m.id()).blockOptional(T)).isEmpty());
  }
}
