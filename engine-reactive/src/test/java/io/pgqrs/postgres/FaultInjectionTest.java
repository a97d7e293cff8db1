package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.testing.FaultProxy;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Consumers and workflow workers on PostgreSQL whose connections go through a {@link FaultProxy}
 * that resets them, slows them, black-holes them and refuses new ones on a schedule, while a
 * second store connected directly enqueues, triggers and checks. Whatever the faults, once they end:
 * every message is archived exactly once and none is left pending or leased, every run succeeds
 * with each step recorded once, and closing the store leaves no connection behind. Handlers may run
 * twice for one message after a lost lease (at-least-once, as documented); the store's state may
 * not differ.
 *
 * <p>Faults are paced by a schedule on a thread of the test's own (it may sleep: it only paces the
 * faults), from a fixed seed; every assertion waits on state with {@link StateWait}.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultInjectionTest {

  private static final Duration T = Duration.ofSeconds(30);
  /** How long the store may take to settle everything once the faults end. */
  private static final Duration RECOVERY = Duration.ofSeconds(25);
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration HEARTBEAT = Duration.ofSeconds(1);
  /**
   * Well beyond any outage here (plus the failures of the dead pooled connections handed out once
   * after it), so maintenance never rescues a live worker: these tests are about the consumer
   * recovering on its own, not about stale workers.
   */
  private static final Duration STALE_AFTER = Duration.ofSeconds(10);
  private static final long SEED = 13;

  private final PostgresDatabase.Target db;
  /** Connected directly, never faulted: enqueues, triggers, reads metrics. */
  private Store direct;
  private FaultProxy proxy;
  private String applicationName;
  /** The stores opened through the proxy by the running test, closed after it whatever happened. */
  private final List<Store> faulted = new java.util.concurrent.CopyOnWriteArrayList<>();

  FaultInjectionTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    direct = Pgqrs.connect(PgqrsConfig.builder(db.dsn()).maintenanceInterval(Duration.ZERO).build()).block(T);
    direct.admin().install().block(T);
  }

  @AfterAll
  void close() {
    direct.close().block(T);
  }

  @BeforeEach
  void startProxy(TestInfo test) {
    proxy = new FaultProxy(db.host(), db.port());
    applicationName = "pgqrs-faults-" + test.getTestMethod().orElseThrow().getName().hashCode() + "-"
        + HexFormat.of().toHexDigits((short) new Random().nextInt());
  }

  @AfterEach
  void stopProxy() {
    proxy.passThrough();
    Flux.fromIterable(faulted).flatMap(Store::close).onErrorResume(e -> Mono.empty()).blockLast(T);
    faulted.clear();
    proxy.close();
  }

  // ---------------------------------------------------------------------------------------------
  // consumers

  @Test
  void everyMessageIsArchivedOnceWhileConnectionsAreResetAndSlowed() throws Exception {
    String queue = "resets";
    int total = 300;
    direct.queues().create(queue).block(T);
    List<Long> ids = enqueue(queue, total);
    Store store = throughProxy();
    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger handlerRuns = new AtomicInteger();
    Random random = new Random(SEED);

    Handling handling = handle(store, queue, handled, handlerRuns, Duration.ofMillis(5));
    FaultSchedule faults = FaultSchedule.run(() -> {
      // A reset every 25 handler runs, and between resets a latency spike of seeded length.
      for (int next = 25; next < total; next += 25) {
        FaultSchedule.awaitAtLeast(handlerRuns, next);
        proxy.resetAll();
        proxy.latency(Duration.ofMillis(20 + random.nextInt(80)));
        FaultSchedule.pause(Duration.ofMillis(100 + random.nextInt(200)));
        proxy.latency(Duration.ZERO);
      }
    });
    faults.awaitEnd(T);
    proxy.passThrough();

    assertEachArchivedOnceAndNothingLeft(queue, ids, handling);
    List<Outcome> outcomes = handling.stop();
    assertThat(proxy.resetConnections()).as("connections reset").isPositive();
    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(outcomes).extracting(Outcome::kind)
        .as("a handler that never fails is never retried nor dead-lettered")
        .doesNotContain(Outcome.Kind.RETRY_SCHEDULED, Outcome.Kind.DEAD_LETTERED);
    closeAndAssertNoConnectionLeft(store);
  }

  @Test
  void aBlackHoleShorterThanTheLeaseDelaysWorkButLosesNoLease() throws Exception {
    String queue = "black_hole";
    int total = 200;
    Duration lease = Duration.ofSeconds(5);
    Duration hole = Duration.ofMillis(1500);
    direct.queues().create(queue).block(T);
    List<Long> ids = enqueue(queue, total);
    Store store = throughProxy();
    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger handlerRuns = new AtomicInteger();

    Handling handling = handle(store.consumer(queue).lease(lease), handled, handlerRuns, Duration.ofMillis(10));
    FaultSchedule faults = FaultSchedule.run(() -> {
      for (int at : new int[] {40, 120}) {
        FaultSchedule.awaitAtLeast(handlerRuns, at);
        proxy.blackHole();
        FaultSchedule.pause(hole);
        proxy.heal();
      }
    });
    faults.awaitEnd(T);

    assertEachArchivedOnceAndNothingLeft(queue, ids, handling);
    List<Outcome> outcomes = handling.stop();
    // Leases outlive the hole and are extended after it: no message went to a second handler.
    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(handled.values()).as("handler runs per message").allMatch(n -> n.get() == 1);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    closeAndAssertNoConnectionLeft(store);
  }

  @Test
  void aBlackHoleLongerThanTheLeaseRedeliversButArchivesEachMessageOnce() throws Exception {
    String queue = "long_black_hole";
    int total = 150;
    Duration lease = Duration.ofSeconds(2);
    Duration hole = Duration.ofSeconds(4);
    direct.queues().create(queue).block(T);
    List<Long> ids = enqueue(queue, total);
    Store store = throughProxy();
    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger handlerRuns = new AtomicInteger();

    Handling handling = handle(store.consumer(queue).lease(lease), handled, handlerRuns, Duration.ofMillis(10));
    FaultSchedule faults = FaultSchedule.run(() -> {
      FaultSchedule.awaitAtLeast(handlerRuns, 40);
      proxy.blackHole();
      FaultSchedule.pause(hole);
      proxy.heal();
    });
    faults.awaitEnd(T);

    assertEachArchivedOnceAndNothingLeft(queue, ids, handling);
    List<Outcome> outcomes = handling.stop();
    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    // The handlers in flight when the hole opened finished after their leases ran out: their acks
    // were refused, and their messages went to a handler again (at-least-once, as documented).
    assertThat(outcomes).extracting(Outcome::kind)
        .containsOnly(Outcome.Kind.ARCHIVED, Outcome.Kind.LEASE_LOST)
        .contains(Outcome.Kind.LEASE_LOST);
    assertThat(handled.values()).anyMatch(n -> n.get() > 1);
    closeAndAssertNoConnectionLeft(store);
  }

  @Test
  void everyMessageIsArchivedOnceThroughDatabaseRestarts() throws Exception {
    String queue = "restarts";
    int total = 200;
    direct.queues().create(queue).block(T);
    List<Long> ids = enqueue(queue, total);
    Store store = throughProxy();
    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger handlerRuns = new AtomicInteger();

    Handling handling = handle(store, queue, handled, handlerRuns, Duration.ofMillis(10));
    FaultSchedule faults = FaultSchedule.run(() -> {
      // A restart: every connection dropped, new ones refused for longer than a settle's retries.
      for (int at : new int[] {50, 130}) {
        FaultSchedule.awaitAtLeast(handlerRuns, at);
        proxy.refuseNewConnections(true);
        proxy.resetAll();
        FaultSchedule.pause(Duration.ofMillis(1500));
        proxy.refuseNewConnections(false);
      }
    });
    faults.awaitEnd(T);

    assertEachArchivedOnceAndNothingLeft(queue, ids, handling);
    List<Outcome> outcomes = handling.stop();
    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(outcomes).extracting(Outcome::kind)
        .doesNotContain(Outcome.Kind.RETRY_SCHEDULED, Outcome.Kind.DEAD_LETTERED);
    closeAndAssertNoConnectionLeft(store);
  }

  @Test
  void aConsumerSubscribedDuringAnOutageStartsOnceTheDatabaseIsBack() throws Exception {
    String queue = "start_outage";
    int total = 50;
    direct.queues().create(queue).block(T);
    List<Long> ids = enqueue(queue, total);
    Store store = throughProxy();
    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger handlerRuns = new AtomicInteger();

    proxy.refuseNewConnections(true);
    proxy.resetAll();
    Handling handling = handle(store, queue, handled, handlerRuns, Duration.ZERO);
    // The outage outlasts the pool's connect attempt and its retry; then the database is back.
    FaultSchedule.run(() -> FaultSchedule.pause(Duration.ofMillis(1500))).awaitEnd(T);
    proxy.refuseNewConnections(false);

    assertEachArchivedOnceAndNothingLeft(queue, ids, handling);
    List<Outcome> outcomes = handling.stop();
    assertThat(handled.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    closeAndAssertNoConnectionLeft(store);
  }

  // ---------------------------------------------------------------------------------------------
  // workflows

  @Test
  void everyRunSucceedsWithEachStepRecordedOnceWhileConnectionsAreReset() throws Exception {
    Random random = new Random(SEED);
    runsSucceedUnder("resets_wf", stepRuns -> () -> {
      // A reset every 12 to 24 step executions, for the first 150 of the 180 steps.
      for (int next = 12 + random.nextInt(12); next < 150; next += 12 + random.nextInt(12)) {
        FaultSchedule.awaitAtLeast(stepRuns, next);
        proxy.resetAll();
      }
    });
  }

  @Test
  void everyRunSucceedsWithEachStepRecordedOnceThroughDatabaseRestarts() throws Exception {
    runsSucceedUnder("restarts_wf", stepRuns -> () -> {
      for (int at : new int[] {40, 110}) {
        FaultSchedule.awaitAtLeast(stepRuns, at);
        proxy.refuseNewConnections(true);
        proxy.resetAll();
        FaultSchedule.pause(Duration.ofMillis(1500));
        proxy.refuseNewConnections(false);
      }
    });
  }

  /**
   * Runs 60 three-step runs on a worker of a store behind the proxy while {@code faults} (given the
   * count of step executions, to pace on) injects faults; half the runs are triggered in that
   * store (taken there at once), half by the direct store (reaching the worker through the queue).
   * Then every run must succeed with its three steps recorded once and its trigger message archived.
   */
  private void runsSucceedUnder(String name, java.util.function.Function<AtomicInteger, FaultSchedule.Script> faults)
      throws Exception {
    int total = 60;
    AtomicInteger stepExecutions = new AtomicInteger();
    Map<String, AtomicInteger> stepRuns = new ConcurrentHashMap<>();
    WorkflowDefinition<String, String> definition = threeSteps(name, stepRuns, stepExecutions);
    Workflow<String, String> elsewhere = direct.runs().register(definition).block(T);
    Store store = throughProxy();
    Workflow<String, String> workflow = store.runs().register(definition).block(T);
    WorkflowWorker worker = workflow.worker().lease(LEASE).pollInterval(POLL).concurrency(4).start();

    FaultSchedule schedule = FaultSchedule.run(faults.apply(stepExecutions));
    for (int i = 0; i < total; i++) {
      String input = "r" + i;
      // Keyed, so a trigger retried after a lost answer cannot start a second run.
      (i % 2 == 0 ? elsewhere.trigger(input, input)
          : workflow.trigger(input, input).retryWhen(reactor.util.retry.Retry.backoff(20, Duration.ofMillis(50))))
          .block(T);
    }
    schedule.awaitEnd(T);
    proxy.passThrough();
    assertThat(proxy.resetConnections()).as("connections reset").isPositive();

    List<RunInfo> runs;
    try {
      runs = StateWait.until("all " + total + " runs finished", RECOVERY,
          () -> direct.runs().list(RunQuery.all().withWorkflow(name).withLimit(total + 10)).collectList(),
          list -> list.size() == total && list.stream().allMatch(r -> r.status().isFinished()));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; unfinished runs: "
          + direct.runs().list(RunQuery.all().withWorkflow(name).withLimit(total + 10))
              .filter(r -> !r.status().isFinished()).map(r -> r.id() + ":" + r.status()).collectList().block(T)
          + "; live messages: " + liveMessages(name) + "; worker running: " + worker.isRunning(), e);
    }
    assertThat(runs).extracting(RunInfo::status).containsOnly(RunStatus.SUCCESS);
    assertThat(runs).allSatisfy(r ->
        assertThat(r.output().asText()).isEqualTo(r.input().asText() + "-1-2-3"));
    for (RunInfo run : runs) {
      List<StepInfo> steps = direct.runs().steps(run.id()).collectList().block(T);
      assertThat(steps).as("steps of run %d", run.id())
          .extracting(StepInfo::stepId).containsExactlyInAnyOrder("one", "two", "three");
      assertThat(steps).extracting(StepInfo::status).containsOnly(StepStatus.SUCCESS);
    }
    QueueMetrics metrics = StateWait.until("no trigger message live", RECOVERY,
        () -> direct.queues().metrics(name), m -> m.live() == 0);
    assertThat(metrics.archived()).as("trigger messages archived").isEqualTo(total);
    assertThat(metrics.dead()).isZero();
    // A step body may run again after a fault (at-least-once), but each ran.
    assertThat(stepRuns).hasSize(3 * total);

    worker.stop().block(T);
    closeAndAssertNoConnectionLeft(store);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** A store whose every connection (the pool's and the listener's) goes through the proxy. */
  private Store throughProxy() {
    String dsn = "postgresql://" + db.user() + (db.password() == null ? "" : ":" + db.password()) + "@"
        + proxy.host() + ":" + proxy.port() + "/" + db.database() + "?schema=" + db.schema()
        + "&pool_max_size=4&application_name=" + applicationName;
    PgqrsConfig config = PgqrsConfig.builder(dsn)
        .leaseDuration(LEASE)
        .pollInterval(POLL)
        .heartbeatInterval(HEARTBEAT)
        .workerStaleAfter(STALE_AFTER)
        .maintenanceInterval(Duration.ofSeconds(1))
        .build();
    Store store = Pgqrs.connect(config).block(T);
    faulted.add(store);
    return store;
  }

  private List<Long> enqueue(String queue, int count) {
    return direct.producer(queue).build()
        .enqueuePayloads(IntStream.range(0, count).mapToObj(n -> Map.of("n", n)).toList())
        .block(T);
  }

  /** A handler run in progress, its outcomes collected until {@link #stop()}. */
  private record Handling(Sinks.Empty<Void> stopSignal, CompletableFuture<List<Outcome>> outcomes) {

    /** Shuts the consumer down and returns its outcomes; fails if its stream ended with an error. */
    List<Outcome> stop() throws Exception {
      stopSignal.tryEmitEmpty();
      return outcomes.get(T.toSeconds(), TimeUnit.SECONDS);
    }

    /** Running, completed, or how it failed. */
    String state() {
      if (!outcomes.isDone()) {
        return "running";
      }
      return outcomes.handle((list, error) -> error == null ? "completed" : "failed with " + error).join();
    }
  }

  private Handling handle(Store store, String queue, Map<Long, AtomicInteger> handled, AtomicInteger handlerRuns,
      Duration work) {
    return handle(store.consumer(queue), handled, handlerRuns, work);
  }

  private Handling handle(io.pgqrs.queue.Consumer.Builder consumer, Map<Long, AtomicInteger> handled,
      AtomicInteger handlerRuns, Duration work) {
    Sinks.Empty<Void> stop = Sinks.empty();
    CompletableFuture<List<Outcome>> outcomes = consumer
        .pollInterval(POLL)
        .heartbeatInterval(HEARTBEAT)
        .concurrency(8)
        .batchSize(10)
        .build()
        .handle(m -> Mono.delay(work).doOnNext(t -> {
          handled.computeIfAbsent(m.id(), id -> new AtomicInteger()).incrementAndGet();
          handlerRuns.incrementAndGet();
        }), stop.asMono())
        .collectList()
        .toFuture();
    return new Handling(stop, outcomes);
  }

  /** A workflow of three steps, counting each step body's executions per run input. */
  private static WorkflowDefinition<String, String> threeSteps(String name, Map<String, AtomicInteger> stepRuns,
      AtomicInteger executions) {
    return Workflows.define(name, String.class, String.class, (ctx, in) ->
        ctx.step("one", String.class, () -> counted(stepRuns, executions, in, "one", in + "-1"))
            .flatMap(one -> ctx.step("two", String.class, () -> counted(stepRuns, executions, in, "two", one + "-2")))
            .flatMap(two -> ctx.step("three", String.class,
                () -> counted(stepRuns, executions, in, "three", two + "-3"))));
  }

  private static Mono<String> counted(Map<String, AtomicInteger> stepRuns, AtomicInteger executions, String input,
      String step, String out) {
    return Mono.delay(Duration.ofMillis(20))
        .doOnNext(t -> {
          stepRuns.computeIfAbsent(input + "/" + step, k -> new AtomicInteger()).incrementAndGet();
          executions.incrementAndGet();
        })
        .thenReturn(out);
  }

  /**
   * Waits until nothing of the queue is pending or leased, then checks that the archive holds
   * every enqueued id exactly once, and nothing else.
   */
  private void assertEachArchivedOnceAndNothingLeft(String queue, List<Long> ids, Handling handling) {
    QueueMetrics metrics;
    try {
      metrics = StateWait.until("queue '" + queue + "' has nothing pending or leased", RECOVERY,
          () -> direct.queues().metrics(queue), m -> m.leased() == 0 && m.pending() == 0 && m.delayed() == 0);
    } catch (AssertionError e) {
      // Say what is left and what became of the consumer, so a failure names its cause.
      AssertionError detailed = new AssertionError(e.getMessage() + "; live messages: " + liveMessages(queue)
          + "; consumer stream: " + handling.state(), e);
      throw detailed;
    }
    assertThat(metrics.dead()).as("dead letters").isZero();
    Map<String, List<Long>> idsByState = messageStates(queue);
    assertThat(idsByState.keySet()).as("message states").containsOnly("archived");
    List<Long> archived = idsByState.get("archived");
    assertThat(archived).as("archived ids").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
  }

  /** The queue's live messages with their attempts, lease and last error, read directly from the table. */
  private List<String> liveMessages(String queue) {
    String sql = "SELECT m.id, m.attempts, m.lease_owner, m.visible_at - now() AS lease_left, m.last_error "
        + "FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id WHERE q.name = $1 AND m.state = 'live' "
        + "ORDER BY m.id";
    return Flux.usingWhen(db.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).bind("$1", queue).execute())
                .flatMap(r -> r.map((row, meta) -> "{id=" + row.get("id") + ", attempts=" + row.get("attempts")
                    + ", owner=" + row.get("lease_owner") + ", visible in " + row.get("lease_left")
                    + ", last error=" + row.get("last_error") + "}")),
            Connection::close)
        .collectList()
        .block(T);
  }

  /** The queue's message ids by state, read directly from the tables (the archive is one of its own). */
  private Map<String, List<Long>> messageStates(String queue) {
    String sql = "SELECT m.id, m.state FROM (SELECT id, state, queue_id FROM pgqrs_messages "
        + "UNION ALL SELECT id, state, queue_id FROM pgqrs_archive) m JOIN pgqrs_queues q ON q.id = m.queue_id "
        + "WHERE q.name = $1 ORDER BY m.id";
    List<Map.Entry<String, Long>> rows = Flux.usingWhen(db.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).bind("$1", queue).execute())
                .flatMap(r -> r.map((row, meta) -> Map.entry(row.get("state", String.class), row.get("id", Long.class)))),
            Connection::close)
        .collectList()
        .block(T);
    return rows.stream().collect(Collectors.groupingBy(Map.Entry::getKey,
        Collectors.mapping(Map.Entry::getValue, Collectors.toCollection(ArrayList::new))));
  }

  /** Closes the faulted store, then waits until neither the proxy nor the server sees any of its connections. */
  private void closeAndAssertNoConnectionLeft(Store store) {
    // First see the store's backends, so that finding none after the close means something.
    StateWait.until("the server shows backends of the open store", RECOVERY, this::backendsOfTheStore, n -> n > 0);
    store.close().block(T);
    StateWait.until("the proxy holds no connection of the closed store", RECOVERY,
        () -> Mono.fromSupplier(() -> proxy.openConnections() == 0));
    StateWait.until("the server has no backend of the closed store", RECOVERY, this::backendsOfTheStore, n -> n == 0);
  }

  /** The server's backends named after the faulted store (its pool's and its listener's). */
  private Mono<Long> backendsOfTheStore() {
    String sql = "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1";
    return Flux.usingWhen(db.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).bind("$1", applicationName + "%").execute())
                .flatMap(r -> r.map((row, meta) -> row.get("n", Long.class))),
            Connection::close)
        .next();
  }

  /**
   * Faults injected from a daemon thread of the test's own, which may sleep to pace them (and only
   * for that); {@link #awaitEnd} waits for the script and rethrows what it threw.
   */
  private static final class FaultSchedule {
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    interface Script {
      void run() throws InterruptedException;
    }

    static FaultSchedule run(Script script) {
      FaultSchedule schedule = new FaultSchedule();
      Thread thread = new Thread(() -> {
        try {
          script.run();
          schedule.done.complete(null);
        } catch (Throwable e) {
          schedule.done.completeExceptionally(e);
        }
      }, "fault-schedule");
      thread.setDaemon(true);
      schedule.thread = thread;
      thread.start();
      return schedule;
    }

    private Thread thread;

    /** Waits for the script to end; interrupts it if it does not within the bound. */
    void awaitEnd(Duration within) throws Exception {
      try {
        done.get(within.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        thread.interrupt();
        throw e;
      }
    }

    static void pause(Duration duration) throws InterruptedException {
      Thread.sleep(duration.toMillis());
    }

    /** Paces the schedule on the work done: waits until {@code counter} reaches {@code value}. */
    static void awaitAtLeast(AtomicInteger counter, int value) throws InterruptedException {
      long deadline = System.nanoTime() + RECOVERY.toNanos();
      while (counter.get() < value) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the work stalled at " + counter.get() + " of " + value);
        }
        Thread.sleep(2);
      }
    }
  }
}
