package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.RetryPolicy;
import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The workflow contract on PostgreSQL, plus transactional steps. */
@ExtendWith(PostgresDatabase.class)
class PostgresWorkflowTest extends WorkflowContract {

  private final PostgresDatabase.Target database;

  PostgresWorkflowTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }

  private long sql(String text) {
    return read(text).block(T);
  }

  /** The last value of the first column (0 when none), on a fresh admin connection; cold. */
  private Mono<Long> read(String text) {
    return Mono.usingWhen(database.adminConnectionFactory().create(),
        c -> Flux.from(c.createStatement(text).execute())
            .flatMap(r -> r.map((row, meta) -> row.get(0, Long.class)))
            .defaultIfEmpty(0L)
            .reduce(0L, (a, b) -> b == null ? a : b),
        Connection::close);
  }

  private static Mono<Long> insert(Connection c, String table, String value) {
    return Flux.from(c.createStatement("INSERT INTO " + table + " (value) VALUES ($1)").bind(0, value).execute())
        .flatMap(r -> r.getRowsUpdated())
        .reduce(0L, Long::sum);
  }

  @Test
  void aTransactionalStepCommitsItsWritesExactlyOnceWithItsRecord() {
    String table = "\"" + database.schema() + "\".ledger_once";
    sql("CREATE TABLE " + table + " (value text NOT NULL)");
    AtomicInteger bodies = new AtomicInteger();
    Workflow<String, Long> workflow = register(define(String.class, Long.class, (ctx, in) -> {
      bodies.incrementAndGet();
      return ctx.transactionalStep("write", Long.class, c -> insert(c, table, in))
          // A replay after the sleep must not write again.
          .flatMap(n -> ctx.sleep(Duration.ofMillis(50)).thenReturn(n));
    }));
    start(workflow, 1);
    RunHandle<Long> run = workflow.trigger("row").block(T);
    StepVerifier.create(run.result()).expectNext(1L).expectComplete().verify(T);
    assertThat(bodies.get()).as("the sleep parked the run, so the body was replayed after it").isGreaterThanOrEqualTo(2);
    assertThat(sql("SELECT count(*) FROM " + table)).isEqualTo(1);
    assertThat(run.steps().filter(s -> s.stepId().equals("write")).collectList().block(T))
        .singleElement()
        .satisfies(s -> {
          assertThat(s.status()).isEqualTo(StepStatus.SUCCESS);
          assertThat(s.attempts()).as("the replay read the recorded write instead of running it").isEqualTo(1);
        });
  }

  @Test
  void aResultWaitingInAnotherEngineIsWokenByNotify() {
    // The waiting engine polls every ten minutes: only the runs channel's NOTIFY can wake it.
    Store waiter = Pgqrs.connect(io.pgqrs.PgqrsConfig.builder(database.dsn()).pollInterval(Duration.ofMinutes(10))
        .build()).block(T);
    try {
      Workflow<String, String> executing = register(define(String.class, String.class, (ctx, in) ->
          ctx.sleep(Duration.ofMillis(300)).then(ctx.step("echo", String.class, () -> Mono.just(in)))));
      start(executing, 1);
      Workflow<String, String> waiting = waiter.runs().register(executing.definition()).block(T);
      RunHandle<String> run = waiting.trigger("across").block(T);
      StepVerifier.create(run.result()).expectNext("across").expectComplete().verify(Duration.ofSeconds(20));
    } finally {
      waiter.close().block(T);
    }
  }

  @Test
  void aRetryAndASleepAreDueAtTheDatabasesNowPlusTheirDelay() {
    Duration delay = Duration.ofMinutes(10);
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("later", String.class, new StepOptions(3, RetryPolicy.fixed(delay)),
            () -> Mono.error(new IllegalStateException("not yet")))));
    Workflow<String, String> sleeper = register(define(String.class, String.class, (ctx, in) ->
        ctx.sleep(delay.multipliedBy(2)).thenReturn(in)));
    start(workflow, 1);
    start(sleeper, 1);
    RunHandle<String> retried = workflow.trigger("x").block(T);
    RunHandle<String> sleeping = sleeper.trigger("y").block(T);
    // Wait until both runs are parked: their step is recorded and their message released.
    for (RunHandle<String> run : java.util.List.of(retried, sleeping)) {
      StateWait.until("run " + run.runId() + " is parked", T, () -> read("SELECT count(*) FROM " + table("pgqrs_runs")
          + " r JOIN " + table("pgqrs_messages") + " m ON m.id = r.message_id JOIN " + table("pgqrs_steps")
          + " s ON s.run_id = r.id WHERE r.id = " + run.runId()
          + " AND m.lease_token IS NULL AND s.status IN ('RETRY', 'WAITING')"), n -> n == 1);
    }
    // The message's visibility and the step's due time are the database's now() plus the delay,
    // whatever the JVM's clock says: compared here with now() in the database itself.
    assertThat(millisFromDatabaseNow("m.visible_at", retried)).isBetween(delay.minus(T).toMillis(), delay.toMillis());
    assertThat(millisFromDatabaseNow("s.wake_at", retried)).isBetween(delay.minus(T).toMillis(), delay.toMillis());
    Duration nap = delay.multipliedBy(2);
    assertThat(millisFromDatabaseNow("m.visible_at", sleeping)).isBetween(nap.minus(T).toMillis(), nap.toMillis());
    assertThat(millisFromDatabaseNow("s.wake_at", sleeping)).isBetween(nap.minus(T).toMillis(), nap.toMillis());
    retried.cancel("no need to wait").block(T);
    sleeping.cancel("no need to wait").block(T);
  }

  private String table(String name) {
    return "\"" + database.schema() + "\"." + name;
  }

  /** How far ahead of the database's now() a column of the run's message (m) or its step (s) is, in ms. */
  private long millisFromDatabaseNow(String column, RunHandle<?> run) {
    return sql("SELECT (extract(epoch FROM " + column + " - now()) * 1000)::bigint FROM " + table("pgqrs_runs")
        + " r JOIN " + table("pgqrs_messages") + " m ON m.id = r.message_id JOIN " + table("pgqrs_steps")
        + " s ON s.run_id = r.id WHERE r.id = " + run.runId());
  }

  @Test
  void aFailedTransactionalStepRollsItsWritesBack() {
    String table = "\"" + database.schema() + "\".ledger_retry";
    sql("CREATE TABLE " + table + " (value text NOT NULL)");
    AtomicInteger attempts = new AtomicInteger();
    Workflow<String, Long> workflow = register(define(String.class, Long.class, (ctx, in) ->
        ctx.transactionalStep("write", Long.class, c -> insert(c, table, in)
            .flatMap(n -> attempts.incrementAndGet() < 3 ? Mono.error(new IllegalStateException("after the insert")) : Mono.just(n)))));
    start(workflow, 1);
    StepVerifier.create(workflow.trigger("row").block(T).result()).expectNext(1L).expectComplete().verify(T);
    assertThat(attempts.get()).isEqualTo(3);
    assertThat(sql("SELECT count(*) FROM " + table)).isEqualTo(1);
  }
}
