package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Run-finished announcements on PostgreSQL: a run is announced (a NOTIFY after its finish) only
 * when someone outside the executing engine awaits it. Both waiting engines here poll only every
 * ten minutes, so a result that arrives came by its announcement.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresRunAnnouncementTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final Duration NEVER = Duration.ofMinutes(10);
  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  private final PostgresDatabase.Target db;
  private Store executing;
  private Store waiting;

  PostgresRunAnnouncementTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    executing = Pgqrs.connect(PgqrsConfig.builder(db.dsn()).pollInterval(NEVER).build()).block(T);
    executing.admin().install().block(T);
    waiting = Pgqrs.connect(PgqrsConfig.builder(db.dsn()).pollInterval(NEVER).build()).block(T);
  }

  @AfterAll
  void close() {
    if (waiting != null) {
      waiting.close().block(T);
    }
    if (executing != null) {
      executing.close().block(T);
    }
  }

  private boolean awaited(long runId) {
    return Mono.usingWhen(Mono.from(db.adminConnectionFactory().create()),
        c -> Flux.from(c.createStatement("SELECT awaited FROM pgqrs_runs WHERE id = $1").bind("$1", runId).execute())
            .flatMap(r -> r.map((row, meta) -> row.get(0, Boolean.class))).single(),
        Connection::close).block(T);
  }

  /**
   * Starts a worker and waits until it takes runs in their triggers: the first runs may come
   * before the worker has registered, and go through the queue.
   */
  private WorkflowWorker startTakingTriggers(Workflow<String, String> workflow) {
    WorkflowWorker worker = workflow.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start();
    long before = io.pgqrs.internal.EngineProbe.runsTakenByTrigger(executing);
    StateWait.until("the worker takes a run in its trigger", T, () -> workflow.trigger("warm-up")
        .flatMap(RunHandle::result)
        .map(r -> io.pgqrs.internal.EngineProbe.runsTakenByTrigger(executing) > before));
    return worker;
  }

  private WorkflowDefinition<String, String> gated(Sinks.Empty<Void> gate) {
    return Workflows.define("ann" + WORKFLOWS.incrementAndGet(), String.class, String.class,
        (ctx, in) -> ctx.step("gated", String.class, () -> gate.asMono().thenReturn(in + "!")));
  }

  @Test
  void aRunTakenByItsTriggersEngineIsNotAwaitedAndOneLeftToTheQueueIs() {
    Sinks.Empty<Void> open = Sinks.empty();
    open.tryEmitEmpty();
    WorkflowDefinition<String, String> definition = gated(open);
    Workflow<String, String> here = executing.runs().register(definition).block(T);
    WorkflowWorker worker = startTakingTriggers(here);
    try {
      RunHandle<String> fast = here.trigger("fast").block(T);
      assertThat(fast.result().block(T)).isEqualTo("fast!");
      assertThat(awaited(fast.runId())).as("a run taken by the trigger's own engine").isFalse();
    } finally {
      worker.stop().block(T);
    }
    // No worker in the triggering engine: the run goes through the queue.
    Workflow<String, String> elsewhere = waiting.runs().register(definition).block(T);
    RunHandle<String> queued = elsewhere.trigger("queued").block(T);
    assertThat(awaited(queued.runId())).as("a run left to the queue").isTrue();
  }

  @Test
  void aWaiterInAnotherEngineIsWokenByTheFinishOfARunTakenByTheFastPath() {
    Sinks.Empty<Void> gate = Sinks.empty();
    // The warm-up runs pass; the gate holds the run under test.
    WorkflowDefinition<String, String> definition = Workflows.define("ann" + WORKFLOWS.incrementAndGet(),
        String.class, String.class, (ctx, in) -> ctx.step("gated", String.class,
            () -> (in.equals("warm-up") ? Mono.<Void>empty() : gate.asMono()).thenReturn(in + "!")));
    Workflow<String, String> here = executing.runs().register(definition).block(T);
    WorkflowWorker worker = startTakingTriggers(here);
    try {
      RunHandle<String> run = here.trigger("far").block(T);
      assertThat(awaited(run.runId())).isFalse();
      Workflow<String, String> there = waiting.runs().register(definition).block(T);
      Mono<String> result = there.run(run.runId()).result().cache();
      result.subscribe(v -> { }, e -> { });
      // The far waiter's look-up marks the run; only then may it finish.
      StateWait.until("the far waiter marked the run awaited", T, () -> Mono.fromCallable(() -> awaited(run.runId())));
      gate.tryEmitEmpty();
      assertThat(result.block(T)).as("woken by the announcement, with the poll ten minutes away").isEqualTo("far!");
    } finally {
      gate.tryEmitEmpty();
      worker.stop().block(T);
    }
  }

  @Test
  void aRunTriggeredWhereNoWorkerServesItIsAnnouncedToItsTrigger() {
    Sinks.Empty<Void> open = Sinks.empty();
    open.tryEmitEmpty();
    WorkflowDefinition<String, String> definition = gated(open);
    Workflow<String, String> there = executing.runs().register(definition).block(T);
    Workflow<String, String> triggering = waiting.runs().register(definition).block(T);
    WorkflowWorker worker = there.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start();
    try {
      assertThat(triggering.trigger("cross").flatMap(RunHandle::result).block(T))
          .as("executed by the other engine, woken by the announcement").isEqualTo("cross!");
    } finally {
      worker.stop().block(T);
    }
  }
}
