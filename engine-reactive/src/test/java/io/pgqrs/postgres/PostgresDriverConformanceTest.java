package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.conformance.Rows;
import io.pgqrs.internal.RunTransitions;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The driver conformance suite on PostgreSQL, in a schema of its own, with what only PostgreSQL
 * shows: wake-ups and announcements through LISTEN/NOTIFY, and step rows left by the step leases of
 * schemas before V006, which only SQL can make now.
 */
@ExtendWith(PostgresDatabase.class)
class PostgresDriverConformanceTest extends DriverConformance {

  private final PostgresDatabase.Target database;

  PostgresDriverConformanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }

  /** The caller's transaction on a plain connection of the test database. */
  @Override
  protected CallerTransaction beginCallerTransaction() {
    return PostgresCallerTransaction.begin(database.adminConnectionFactory());
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private Message claimOne(String queue, Instant at) {
    List<Message> claimed = driver.claim(new StoreParams.Claim(queue, 1, Rows.LEASE, null, at)).block(T).claimed();
    assertThat(claimed).hasSize(1);
    return claimed.get(0);
  }

  private static StoreParams.LeaseRef lease(Message m, Instant at) {
    return new StoreParams.LeaseRef(m.id(), m.leaseToken(), at);
  }

  private static StoreParams.RecordStep record(long runId, Message m, String position, String stepId,
      StepStatus status, int attempts, @Nullable String awaiting) {
    return new StoreParams.RecordStep(runId, lease(m, null), position, stepId, status,
        status == StepStatus.SUCCESS ? "1" : null, null, null, attempts, null, awaiting,
        status == StepStatus.SUCCESS ? 1 : 0, Duration.ZERO);
  }

  private List<StoreResults.StepWritten> recordSteps(Instant at, StoreParams.RecordStep step) {
    return driver.recordSteps(new StoreParams.RecordSteps(List.of(step), at)).block(T);
  }

  private boolean suspend(long runId, Message m, Instant at) {
    return driver.suspendRun(new StoreParams.SuspendRun(runId, lease(m, at), Duration.ofHours(1), false,
        RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T);
  }

  @Test
  void aSignalOrAResumeWakesTheQueueTheRunsMessageIsOnNotTheWorkflows() {
    Instant t = now();
    String wf = Rows.uniqueName("wf");
    String queue = wf + "@v4";
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(wf, queue, Rows.MAX_ATTEMPTS, t)).block(T);
    long runId = driver.triggerRun(new StoreParams.TriggerRun(wf, queue, "v4", "{}", null, null, null, t)).block(T)
        .runId();
    Message first = claimOne(queue, t);
    driver.beginRun(new StoreParams.BeginRun(runId, RunTransitions.BEGIN, t)).block(T);
    assertThat(recordSteps(t, record(runId, first, "1", "wait", StepStatus.WAITING, 0, "go")))
        .containsExactly(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    assertThat(suspend(runId, first, t)).isTrue();
    StepVerifier.create(Flux.merge(driver.wakeups(wf), driver.wakeups(queue)))
        .as("each LISTEN wakes its queue once")
        .expectNextCount(2)
        // Paused and resumed while its message is parked: the resume wakes the version's queue.
        .then(() -> {
          driver.controlRun(RunTransitions.control(runId, StoreParams.RunControl.PAUSE, null, t.plusSeconds(1)))
              .block(T);
          driver.controlRun(RunTransitions.control(runId, StoreParams.RunControl.RESUME, null, t.plusSeconds(2)))
              .block(T);
        })
        .expectNext(queue)
        // Claimed again and parked: the signal it waits for wakes the version's queue.
        .then(() -> {
          Message again = claimOne(queue, t.plusSeconds(3));
          assertThat(again.id()).isEqualTo(first.id());
          assertThat(suspend(runId, again, t.plusSeconds(3))).isTrue();
          driver.signalRun(new StoreParams.SignalRun(runId, "go", "1", t.plusSeconds(4))).block(T);
        })
        .expectNext(queue)
        // Notifications arrive in commit order on the one LISTEN connection: a run triggered on the
        // workflow's own queue afterwards is the first to wake it.
        .then(() -> driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", null, null, null, t)).block(T))
        .expectNext(wf)
        .thenCancel()
        .verify(T);
  }

  @Test
  void aControlThatEndsTheRunAnnouncesItWhateverTheAction() {
    Instant t = now();
    Rows.Run queued = rows.runIn(RunStatus.QUEUED, t);
    Rows.Run paused = rows.runIn(RunStatus.PAUSED, t);
    StoreDriver listening = open(dsn());
    try {
      StepVerifier.create(listening.runsFinished())
          .as("the first LISTEN tells that runs may have finished unannounced")
          .expectNext(-1L)
          .then(() -> driver.controlRun(RunTransitions.cancel(queued.id(), "stop")).block(T))
          .expectNext(queued.id())
          .then(() -> driver.controlRun(new StoreParams.ControlRun(paused.id(), StoreParams.RunControl.RESUME,
              new StoreParams.Moves(List.of(RunStatus.PAUSED), List.of(RunStatus.CANCELLED)), null, null, List.of(),
              null, t.plusSeconds(1))).block(T))
          .expectNext(paused.id())
          .thenCancel()
          .verify(T);
    } finally {
      listening.close().block(T);
    }
  }

  @Test
  void finishRunsAnnouncesEveryRunItFinishedAndNoOther() {
    Instant t = now();
    Rows.Run first = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run lost = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run second = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run after = rows.runIn(RunStatus.QUEUED, t);
    Instant at = t.plusSeconds(1);
    StoreDriver listening = open(dsn());
    try {
      StepVerifier.create(listening.runsFinished())
          .expectNext(-1L)
          .then(() -> driver.finishRuns(new StoreParams.FinishRuns(List.of(
              new StoreParams.FinishRun(first.id(), first.lease(at), RunStatus.SUCCESS,
                  RunTransitions.finish(RunStatus.SUCCESS), "1", null, null),
              new StoreParams.FinishRun(lost.id(), new StoreParams.LeaseRef(lost.message().id(), UUID.randomUUID(), at),
                  RunStatus.SUCCESS, RunTransitions.finish(RunStatus.SUCCESS), "1", null, null),
              new StoreParams.FinishRun(second.id(), second.lease(at), RunStatus.ERROR,
                  RunTransitions.finish(RunStatus.ERROR), null, "boom", null)), at)).block(T))
          .expectNext(first.id(), second.id())
          // Commit order on the one LISTEN connection: nothing of the lost run came before this.
          .then(() -> driver.controlRun(RunTransitions.cancel(after.id(), "stop")).block(T))
          .expectNext(after.id())
          .thenCancel()
          .verify(T);
    } finally {
      listening.close().block(T);
    }
  }

  @Test
  void claimRunsClaimsTheMessageOfALockedRunWithoutBeginningIt() {
    Instant t = now();
    Rows.Run run = rows.runIn(RunStatus.QUEUED, t);
    String lock = "SELECT id FROM \"" + driver.schema() + "\".pgqrs_runs WHERE id = $1 FOR UPDATE";
    // Another transaction holds the run's row (a finish or a signal, say): the claim does not wait
    // for it while it holds the message, and the worker begins the run on its own afterwards.
    StoreResults.ClaimedRuns claimed = Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Mono.from(c.beginTransaction())
                .thenMany(Flux.from(c.createStatement(lock).bind(0, run.id()).execute())
                    .concatMap(r -> r.map((row, meta) -> 1)))
                .then(driver.claimRuns(new StoreParams.ClaimRuns(
                    new StoreParams.Claim(run.workflow(), 1, Rows.LEASE, null, t.plusSeconds(1)), RunTransitions.BEGIN)))
                .flatMap(result -> Mono.from(c.rollbackTransaction()).thenReturn(result)),
            Connection::close)
        .single()
        .block(T);
    assertThat(claimed.claimed().claimed()).hasSize(1);
    assertThat(claimed.begun()).isEmpty();
    assertThat(driver.findRun(run.id()).block(T).status()).isEqualTo(RunStatus.QUEUED);
  }

  @Test
  void claimAndSettleHoldsNoCandidateOfItsClaimWhileItsSettlesWaitForTheirRows() {
    Instant t = now();
    String q = rows.queue(t);
    Message held = rows.leasedMessage(q, t);
    long visible = rows.enqueue(q, Rows.row(1), t);
    Instant at = t.plusSeconds(2);
    String table = "\"" + driver.schema() + "\".pgqrs_messages";
    String lock = "SELECT id FROM " + table + " WHERE id = $1 FOR UPDATE";
    String lockAtOnce = lock + " NOWAIT";
    String waitingForMe = "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))";
    // Another statement holds the settled message's row (the lease keeper extending it, say) and
    // then wants a row the claim could take (a claim candidate it locked on a stale snapshot and
    // could not take holds its lock to the end of the statement, so that happens under load). Had
    // the fused statement locked its candidates before waiting for its settles' rows, the two would
    // deadlock: it must take the settles' locks first, in id order, and claim only after.
    Connection other = Mono.from(database.adminConnectionFactory().create()).block(T);
    StoreResults.ClaimedAndSettled r;
    try {
      Mono.from(other.beginTransaction()).block(T);
      assertThat(ids(other, lock, held.id())).containsExactly(held.id());
      Mono<StoreResults.ClaimedAndSettled> fused = driver.claimAndSettle(new StoreParams.Claim(q, 1, Rows.LEASE, null, at),
          new StoreParams.SettleMany(List.of(StoreParams.Settle.archive(held.id(), Rows.lease(held))), at)).cache();
      fused.subscribe(x -> {}, e -> {});
      StateWait.until("the fused statement waits for the settled message's row", T,
          () -> Flux.from(other.createStatement(waitingForMe).execute())
              .concatMap(x -> x.map((row, meta) -> row.get(0, Long.class))).next(), n -> n == 1);
      assertThat(ids(other, lockAtOnce, visible)).as("the claim's candidate is free while the settles wait")
          .containsExactly(visible);
      Mono.from(other.rollbackTransaction()).block(T);
      r = fused.block(T);
    } finally {
      Mono.from(other.close()).block(T);
    }
    assertThat(r.settled()).containsExactly(StoreResults.Settled.APPLIED);
    assertThat(r.claimed().claimed()).extracting(Message::id).containsExactly(visible);
  }

  @Test
  void claimsOfManyMessagesVacuumTheMessagesTable() {
    Instant t = now();
    String q = rows.queue(t);
    String table = "\"" + driver.schema() + "\".pgqrs_messages";
    String vacuums = "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = '" + table.replace("'", "''")
        + "'::regclass";
    // Autovacuum off for the table, so the vacuum counted is the engine's (autovacuum would make
    // the engine's SKIP_LOCKED vacuum skip the table).
    admin("ALTER TABLE " + table + " SET (autovacuum_enabled = false)");
    try {
      long before = firstLong(vacuums);
      List<StoreParams.NewRow> batch = new java.util.ArrayList<>();
      for (int i = 0; i < PostgresHotTableVacuum.EVERY; i++) {
        batch.add(Rows.row(i));
      }
      assertThat(driver.enqueue(new StoreParams.Enqueue(q, batch, t)).block(T)).hasSize(batch.size());
      assertThat(driver.claim(new StoreParams.Claim(q, batch.size(), Rows.LEASE, null, t.plusSeconds(1))).block(T)
          .claimed()).hasSize(batch.size());
      StateWait.until("the messages table is vacuumed", T, () -> Mono.fromCallable(() -> firstLong(vacuums))
          .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic()), n -> n > before);
    } finally {
      admin("ALTER TABLE " + table + " RESET (autovacuum_enabled)");
    }
  }

  private void admin(String sql) {
    Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).execute()).concatMap(r -> r.getRowsUpdated()),
            Connection::close)
        .blockLast(T);
  }

  private long firstLong(String sql) {
    return Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).execute()).concatMap(r -> r.map((row, meta) -> row.get(0, Long.class))),
            Connection::close)
        .blockFirst(T);
  }

  /** The ids a query with one bind parameter returns on a connection. */
  private static List<Long> ids(Connection c, String sql, long param) {
    return Flux.from(c.createStatement(sql).bind(0, param).execute())
        .concatMap(x -> x.map((row, meta) -> row.get(0, Long.class)))
        .collectList()
        .block(T);
  }

  /** A step as the step leases of schemas before V006 left it: RUNNING under a lease, without position. */
  private void legacyRunningStep(long runId, String stepId, Instant at) {
    String insert = "INSERT INTO \"" + driver.schema() + "\".pgqrs_steps (run_id, step_id, status, attempts, "
        + "lease_token, lease_until, started_at, updated_at) "
        + "VALUES ($1, $2, 'RUNNING', 1, gen_random_uuid(), $3, $4, $4)";
    Long inserted = Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(insert).bind(0, runId).bind(1, stepId).bind(2, at.plus(Rows.LEASE))
                    .bind(3, at).execute())
                .flatMap(r -> Mono.from(r.getRowsUpdated())),
            Connection::close)
        .blockLast(T);
    assertThat(inserted).isEqualTo(1L);
  }

  @Test
  void aStepLeftRunningByTheOldStepLeasesIsNoHistoryAndIsRecordedOverKeepingItsStart() {
    Instant t = now();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Message m = run.message();
    assertThat(recordSteps(t, record(run.id(), m, "1", "a", StepStatus.SUCCESS, 1, null)))
        .containsExactly(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    legacyRunningStep(run.id(), "legacy", t);
    assertThat(driver.listSteps(run.id()).collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::position, StepInfo::status)
        .containsExactly(tuple("a", "1", StepStatus.SUCCESS), tuple("legacy", null, StepStatus.RUNNING));
    assertThat(driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(1))).block(T)
        .history()).extracting(StoreResults.StepRecord::stepId).containsExactly("a");
    // Recorded over, as a RETRY or WAITING record is, keeping its start.
    Instant later = t.plusSeconds(2);
    assertThat(recordSteps(later, record(run.id(), m, "2", "legacy", StepStatus.SUCCESS, 2, null)))
        .containsExactly(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    assertThat(driver.listSteps(run.id()).collectList().block(T)).filteredOn(s -> s.stepId().equals("legacy"))
        .containsExactly(new StepInfo(run.id(), "legacy", StepStatus.SUCCESS, 2, io.pgqrs.internal.Json.parse("1"),
            null, null, t, later, later, "2"));
    // A signal is taken over such a step too.
    legacyRunningStep(run.id(), "legacy-wait", t);
    driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "\"yes\"", later)).block(T);
    assertThat(driver.takeSignal(new StoreParams.TakeSignal(run.id(), lease(m, later), "3", "legacy-wait", "approval",
        2)).block(T)).isEqualTo(new StoreResults.SignalTaken("\"yes\"", true));
    assertThat(driver.listSteps(run.id()).collectList().block(T)).filteredOn(s -> s.stepId().equals("legacy-wait"))
        .extracting(StepInfo::status, StepInfo::position).containsExactly(tuple(StepStatus.SUCCESS, "3"));
  }
}
