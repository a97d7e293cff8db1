package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The engine's one result waiter, on a real PostgreSQL driver whose run-finished announcements the
 * test controls (the driver's other calls pass through, counted).
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunResultsTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;
  private Store store;

  RunResultsTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    store = Pgqrs.connect(db.dsn()).block(T);
    store.admin().install().block(T);
  }

  @AfterAll
  void close() {
    store.close().block(T);
  }

  /**
   * The real driver, with {@code runsFinished()} replaced by {@code announcements} and the result
   * waiter's look-ups (awaitRuns) counted.
   */
  private static StoreDriver observed(StoreDriver real, Flux<Long> announcements, AtomicInteger findRuns) {
    return ObservedDriver.of(real, Map.of("runsFinished", announcements), name -> {
      if (name.equals("awaitRuns")) {
        findRuns.incrementAndGet();
      }
    });
  }

  @Test
  void aReconnectLooksEveryWaitingRunUpInOneQuery() {
    StoreDriver real = ((Engine) store).driver();
    Workflow<String, String> workflow = store.runs()
        .register(Workflows.define("results_reconnect", String.class, String.class, (ctx, in) -> Mono.just(in)))
        .block(T);
    List<RunHandle<String>> runs = Flux.range(0, 50).concatMap(i -> workflow.trigger("r" + i)).collectList().block(T);
    Sinks.Many<Long> announcements = Sinks.many().multicast().directBestEffort();
    AtomicInteger findRuns = new AtomicInteger();
    RunResults results = new RunResults(observed(real, announcements.asFlux(), findRuns), Duration.ofHours(1),
        Schedulers.parallel());
    try {
      List<Mono<WorkflowRuntime.Finished>> waiting = runs.stream()
          .map(run -> results.await(run.runId(), false).cache())
          .toList();
      waiting.forEach(w -> w.subscribe());
      // Every run finishes unannounced (a finish whose notification the listener missed).
      Flux.fromIterable(runs)
          .concatMap(run -> real.finishRun(new StoreParams.FinishRun(run.runId(), null, RunStatus.SUCCESS,
              RunTransitions.finish(RunStatus.SUCCESS), "\"done\"", null, null)))
          .blockLast(T);
      assertThat(findRuns.get()).isZero();
      // The listener reconnected: "some runs may have finished unannounced".
      announcements.tryEmitNext(-1L);
      List<WorkflowRuntime.Finished> finished = Flux.concat(waiting).collectList().block(T);
      assertThat(finished).hasSize(50).allSatisfy(f -> assertThat(f.status()).isEqualTo(RunStatus.SUCCESS));
      assertThat(findRuns.get()).as("look-ups for 50 waiters after one reconnect").isEqualTo(1);
    } finally {
      results.close();
    }
  }

  @Test
  void aWaiterOfARunFinishedBeforeItWaitedReadsItOnce() {
    StoreDriver real = ((Engine) store).driver();
    Workflow<String, String> workflow = store.runs()
        .register(Workflows.define("results_before", String.class, String.class, (ctx, in) -> Mono.just(in)))
        .block(T);
    RunHandle<String> run = workflow.trigger("early").block(T);
    real.finishRun(new StoreParams.FinishRun(run.runId(), null, RunStatus.SUCCESS,
        RunTransitions.finish(RunStatus.SUCCESS), "\"early\"", null, null)).block(T);
    AtomicInteger findRuns = new AtomicInteger();
    RunResults results = new RunResults(observed(real, Flux.never(), findRuns), Duration.ofHours(1),
        Schedulers.parallel());
    try {
      assertThat(results.await(run.runId(), true).block(T).outputJson()).isEqualTo("\"early\"");
      assertThat(findRuns.get()).isEqualTo(1);
    } finally {
      results.close();
    }
  }
  @Test
  void anOutcomeSeenHereIsTrustedForOnePollIntervalThenReadAgain() {
    StoreDriver real = ((Engine) store).driver();
    Workflow<String, String> workflow = store.runs()
        .register(Workflows.define("results_restarted", String.class, String.class, (ctx, in) -> Mono.just(in)))
        .block(T);
    RunHandle<String> run = workflow.trigger("first").block(T);
    real.finishRun(new StoreParams.FinishRun(run.runId(), null, RunStatus.ERROR,
        RunTransitions.finish(RunStatus.ERROR), null, "first failure", null)).block(T);
    AtomicInteger findRuns = new AtomicInteger();
    reactor.test.scheduler.VirtualTimeScheduler clock = reactor.test.scheduler.VirtualTimeScheduler.create();
    RunResults results = new RunResults(observed(real, Flux.never(), findRuns), Duration.ofSeconds(5), clock);
    try {
      assertThat(results.await(run.runId(), true).block(T).status()).isEqualTo(RunStatus.ERROR);
      assertThat(findRuns.get()).isEqualTo(1);
      // Restarted and finished again by another engine, which announces nothing here.
      store.runs().restart(run.runId()).block(T);
      real.finishRun(new StoreParams.FinishRun(run.runId(), null, RunStatus.SUCCESS,
          RunTransitions.finish(RunStatus.SUCCESS), "\"second\"", null, null)).block(T);
      // Within the poll interval the outcome seen here is served without a read...
      clock.advanceTimeBy(Duration.ofSeconds(5));
      assertThat(results.await(run.runId(), true).block(T).status()).isEqualTo(RunStatus.ERROR);
      assertThat(findRuns.get()).isEqualTo(1);
      // ...and after it, read again: the restarted run's outcome.
      clock.advanceTimeBy(Duration.ofMillis(1));
      WorkflowRuntime.Finished again = results.await(run.runId(), true).block(T);
      assertThat(again.status()).isEqualTo(RunStatus.SUCCESS);
      assertThat(again.outputJson()).isEqualTo("\"second\"");
      assertThat(findRuns.get()).isEqualTo(2);
    } finally {
      results.close();
      clock.dispose();
    }
  }
}
