package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.admin.SchemaReport;
import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.conformance.Rows;
import io.pgqrs.internal.Json;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Upgrading a database installed by an older release: before the class, the migrations up to
 * {@link #oldVersion()} make the schema, rows of every table are written through the driver and
 * read back, and {@code install()} applies the later migrations, among them the one that rebuilds
 * the tables so that no id is handed out twice. The tests then find every row as it was,
 * under its id, the schema whole, and new ids above the old ones, never reusing a deleted one. Each
 * test writes only rows of its own, so they run in any order. One subclass per way of reaching
 * SQLite names a fresh, empty database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SqliteUpgradeContract {

  /** Upper bound of every blocking wait. */
  protected static final Duration T = Rows.TIMEOUT;

  /** The migration that rebuilds the tables with AUTOINCREMENT. */
  private static final String REBUILD = "V005__ids_never_reused.sql";

  /** The driver, on the upgraded database. */
  protected StoreDriver driver;

  private Rows rows;
  private Instant t;

  // The rows written before the upgrade, as read back then.
  private QueueInfo queue;
  private List<Message> messages;
  private WorkerInfo worker;
  private RunInfo run;
  private RunInfo queuedRun;
  private List<StepInfo> steps;
  private String doomedWorkflow;
  private RunInfo doomedRun;
  // Rows the tests change, apart from the ones above: a leased message and a run whose waiting
  // step has its signal pending.
  private StoreParams.LeaseRef lease;
  private long waitingRun;
  private long highestMessageId;
  private long highestQueueId;

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

  @BeforeAll
  void installTheOldSchemaWriteRowsAndUpgrade() {
    driver = DriverConformance.open(dsn());
    assertThat(oldVersion()).isBetween(1, SqliteDriver.MIGRATION_FILES.indexOf(REBUILD));
    ((SqliteDriver) driver).migrate(oldVersion()).block(T);
    assertThat(driver.verify().block(T).installedVersion()).isEqualTo(oldVersion());
    rows = new Rows(driver);
    t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    String q = rows.queue(t);
    worker = rows.worker(q, t);
    // The factory claims the message it just enqueued: the live one comes last.
    Message leased = rows.leasedMessage(q, Rows.LEASE, worker.id(), t);
    Message archived = rows.archivedMessage(q, t);
    Message dead = rows.deadMessage(q, t);
    Message live = rows.liveMessage(q, t);
    queue = driver.findQueue(q).block(T);
    String probeQueue = rows.queue(t);
    Message probe = rows.leasedMessage(probeQueue, t);
    lease = new StoreParams.LeaseRef(probe.id(), Rows.lease(probe), t);

    String wf = rows.workflow(t);
    Rows.Run running = rows.runningRun(wf, t);
    StoreResults.StepExecute charge = acquire(running.id(), "charge", t);
    assertThat(driver.finishStep(new StoreParams.FinishStep(running.id(), "charge", charge.token(),
        StepStatus.SUCCESS, "{\"paid\": 12}", "java.util.Map", null, null, null, t)).block(T)).isTrue();
    StoreResults.StepExecute approval = acquire(running.id(), "approval", t);
    assertThat(driver.finishStep(new StoreParams.FinishStep(running.id(), "approval", approval.token(),
        StepStatus.WAITING, null, null, null, null, "approval", t)).block(T)).isTrue();
    run = driver.findRun(running.id()).block(T);
    queuedRun = driver.findRun(rows.queuedRun(wf, t).id()).block(T);
    steps = driver.listSteps(running.id()).collectList().block(T);

    String waitingWorkflow = rows.workflow(t);
    waitingRun = rows.runningRun(waitingWorkflow, t).id();
    StoreResults.StepExecute wait = acquire(waitingRun, "approval", t);
    assertThat(driver.finishStep(new StoreParams.FinishStep(waitingRun, "approval", wait.token(),
        StepStatus.WAITING, null, null, null, null, "approval", t)).block(T)).isTrue();
    driver.signalRun(new StoreParams.SignalRun(waitingRun, "approval", "{\"ok\": true}", t)).block(T);

    doomedWorkflow = rows.workflow(t);
    doomedRun = driver.findRun(rows.runningRun(doomedWorkflow, t).id()).block(T);
    acquire(doomedRun.id(), "step", t);

    messages = Stream.of(q, wf, doomedWorkflow)
        .flatMap(name -> Stream.of(MessageState.values()).flatMap(state -> listMessages(name, state).stream()))
        .toList();
    assertThat(messages).extracting(Message::id)
        .contains(live.id(), leased.id(), archived.id(), dead.id(), running.message().id());
    highestMessageId = Stream.of(q, probeQueue, wf, waitingWorkflow, doomedWorkflow)
        .flatMap(name -> Stream.of(MessageState.values()).flatMap(state -> listMessages(name, state).stream()))
        .mapToLong(Message::id).max().orElseThrow();
    highestQueueId = driver.listQueues().map(QueueInfo::id).reduce(Math::max).block(T);

    driver.install().block(T);
  }

  @AfterAll
  void closeDriver() {
    if (driver != null) {
      driver.close().block(T);
    }
  }

  private StoreResults.StepExecute acquire(long runId, String stepId, Instant at) {
    StoreResults.StepAcquired acquired =
        driver.acquireStep(new StoreParams.AcquireStep(runId, stepId, Rows.LEASE, at)).block(T);
    assertThat(acquired).isInstanceOf(StoreResults.StepExecute.class);
    return (StoreResults.StepExecute) acquired;
  }

  private List<Message> listMessages(String queueName, MessageState state) {
    return driver.listMessages(new StoreParams.ListMessages(queueName, state, 0, 1000)).collectList().block(T);
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
    assertThat(driver.findRun(run.id()).block(T)).isEqualTo(run);
    assertThat(driver.findRun(queuedRun.id()).block(T)).isEqualTo(queuedRun);
    assertThat(driver.listSteps(run.id()).collectList().block(T)).isEqualTo(steps);
  }

  @Test
  void leasesAndSignalsWrittenBeforeTheUpgradeStillWork() {
    assertThat(driver.archive(lease).block(T)).isTrue();
    StoreResults.StepExecute approval = acquire(waitingRun, "approval", t.plusSeconds(1));
    StoreResults.SignalTaken taken = driver.takeStepSignal(new StoreParams.TakeStepSignal(waitingRun, "approval",
        approval.token(), "approval", t.plusSeconds(1))).block(T);
    assertThat(taken.leaseHeld()).isTrue();
    assertThat(Json.parse(taken.valueJson())).isEqualTo(Json.parse("{\"ok\": true}"));
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

    assertThat(rows.queuedRun(run.workflow(), t).id()).isGreaterThan(doomedRun.id());
  }

  @Test
  void foreignKeysStillCascadeFromTheRebuiltTables() {
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(doomedWorkflow, true)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findRun(doomedRun.id()).blockOptional(T)).isEmpty();
    assertThat(driver.listSteps(doomedRun.id()).collectList().block(T)).isEmpty();
    assertThat(messages).filteredOn(m -> m.queue().equals(doomedWorkflow)).isNotEmpty()
        .allSatisfy(m -> assertThat(driver.findMessage(m.id()).blockOptional(T)).isEmpty());
  }
}
