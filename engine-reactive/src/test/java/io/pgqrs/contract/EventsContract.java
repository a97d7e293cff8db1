package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.Store;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowFunction;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Run events on every backend: {@code RunContext.setEvent} recorded once per step however often the
 * run is replayed, {@code event()} waiting for a value, {@code events()} delivering successive
 * values in order and completing when the run finishes, also to a reader in another engine on the
 * same database, typed errors for bad keys and values, and the events of a deleted run.
 */
public abstract class EventsContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();
  private static final Duration WAIT = Duration.ofMinutes(5);

  private final List<WorkflowWorker> workers = new ArrayList<>();

  /**
   * The DSN of the database under test, shared by every store a test opens.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  @Override
  protected Store openStore() {
    return connect();
  }

  /** A store on the database under test, polling often so that readers elsewhere see values soon. */
  protected Store connect() {
    return Pgqrs.connect(PgqrsConfig.builder(dsn()).pollInterval(Duration.ofMillis(100)).build()).block(T);
  }

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  /** A progress report, as a workflow would publish it. */
  public record Progress(int done, String note) {}

  private <O> Workflow<String, O> register(Class<O> out, WorkflowFunction<String, O> body) {
    String name = "ev" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return store.runs().register(Workflows.define(name.length() > 50 ? name.substring(0, 50) : name, String.class,
            out, body)
        .withStepOptions(StepOptions.noRetries())
        .withWorkflowRetries(StepOptions.noRetries())).block(T);
  }

  private WorkflowWorker start(Workflow<?, ?> workflow) {
    WorkflowWorker worker = workflow.worker().concurrency(2).pollInterval(Duration.ofMillis(100))
        .shutdownTimeout(Duration.ZERO).start();
    workers.add(worker);
    return worker;
  }

  private List<Integer> storedValues(long runId, String key) {
    return driver().listEvents(new StoreParams.ListEvents(List.of(runId), List.of(0L), 100))
        .filter(e -> e.key().equals(key))
        .map(e -> Integer.valueOf(e.valueJson()))
        .collectList().block(T);
  }

  @Test
  void eventWaitsUntilTheRunSetsAValueThenGetsIt() {
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> ctx.awaitSignal("go", String.class, WAIT)
        .flatMap(note -> ctx.setEvent("stage", new Progress(1, note)))
        .then(ctx.awaitSignal("done", String.class, WAIT)));
    start(workflow);
    RunHandle<String> run = workflow.trigger("a").block(T);

    StepVerifier.create(run.event("stage", Progress.class))
        .expectSubscription()
        .then(() -> run.signal("go", "it's \"quoted\" \\ and ünïcode 🚀").block(T))
        .expectNext(new Progress(1, "it's \"quoted\" \\ and ünïcode 🚀"))
        .expectComplete()
        .verify(T);

    run.signal("done", "ok").block(T);
    assertThat(run.result().block(T)).isEqualTo("ok");
    // After the finish, the value is still there, and a key never set completes empty.
    StepVerifier.create(run.event("stage", Progress.class)).expectNextCount(1).expectComplete().verify(T);
    StepVerifier.create(run.event("never-set", Progress.class)).expectComplete().verify(T);
  }

  @Test
  void eventsDeliverSuccessiveValuesInOrderAndCompleteWhenTheRunFinishes() {
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> ctx.setEvent("progress", 1)
        .then(ctx.setEvent("other", 100))
        .then(ctx.awaitSignal("next", String.class, WAIT))
        .then(ctx.setEvent("progress", 2))
        .then(ctx.awaitSignal("next", String.class, WAIT))
        .then(ctx.setEvent("progress", 3))
        .then(ctx.setEvent("progress", 4))
        .thenReturn("done"));
    start(workflow);
    RunHandle<String> run = workflow.trigger("b").block(T);

    StepVerifier.create(run.events("progress", Integer.class))
        .expectNext(1)
        .then(() -> run.signal("next", "").block(T))
        .expectNext(2)
        .then(() -> run.signal("next", "").block(T))
        .expectNext(3, 4)
        .expectComplete()
        .verify(T);

    assertThat(run.result().block(T)).isEqualTo("done");
    // Each park and wake-up replayed the earlier setEvents: none was written twice.
    assertThat(storedValues(run.runId(), "progress")).containsExactly(1, 2, 3, 4);
    StepVerifier.create(run.events("progress", Integer.class)).expectNext(1, 2, 3, 4).expectComplete().verify(T);
    StepVerifier.create(run.event("progress", Integer.class)).expectNext(4).expectComplete().verify(T);
    StepVerifier.create(store.runs().events(run.runId(), "other", Integer.class))
        .expectNext(100).expectComplete().verify(T);
  }

  @Test
  void aRunReplayedAfterItsWorkerStoppedMidStepDoesNotDuplicateItsEvents() {
    AtomicReference<Sinks.One<Boolean>> gate = new AtomicReference<>(Sinks.one());
    AtomicInteger slowExecutions = new AtomicInteger();
    Sinks.One<Boolean> slowEntered = Sinks.one();
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> ctx.setEvent("progress", 1)
        .then(ctx.step("slow", Boolean.class, () -> {
          slowExecutions.incrementAndGet();
          slowEntered.tryEmitValue(true);
          return gate.get().asMono();
        }))
        .then(ctx.setEvent("progress", 2))
        .thenReturn("done"));
    WorkflowWorker first = start(workflow);
    RunHandle<String> run = workflow.trigger("c").block(T);
    assertThat(run.event("progress", Integer.class).block(T)).isEqualTo(1);
    // Wait until the slow step runs, then stop the worker with it in flight: its lease is given up.
    assertThat(slowEntered.asMono().block(T)).isTrue();
    first.stop().block(T);
    workers.remove(first);

    Sinks.One<Boolean> open = Sinks.one();
    open.tryEmitValue(true);
    gate.set(open);
    start(workflow);
    assertThat(run.result().block(T)).isEqualTo("done");
    assertThat(slowExecutions.get()).isEqualTo(2);
    assertThat(storedValues(run.runId(), "progress")).containsExactly(1, 2);
    assertThat(run.steps().map(StepInfo::stepId).collectList().block(T))
        .containsExactly("pgqrs.event.progress", "slow", "pgqrs.event.progress#2");
    StepVerifier.create(run.events("progress", Integer.class)).expectNext(1, 2).expectComplete().verify(T);
  }

  @Test
  void aReaderInAnotherEngineSeesTheValuesAndTheEnd() {
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> ctx.setEvent("progress", 1)
        .then(ctx.awaitSignal("next", String.class, WAIT))
        .then(ctx.setEvent("progress", 2))
        .then(ctx.awaitSignal("next", String.class, WAIT))
        .thenReturn("done"));
    start(workflow);
    RunHandle<String> run = workflow.trigger("d").block(T);
    Store other = connect();
    try {
      StepVerifier.create(other.runs().events(run.runId(), "progress", Integer.class))
          .expectNext(1)
          .then(() -> run.signal("next", "").block(T))
          .expectNext(2)
          .then(() -> run.signal("next", "").block(T))
          .expectComplete()
          .verify(T);
      StepVerifier.create(other.runs().event(run.runId(), "progress", Integer.class))
          .expectNext(2).expectComplete().verify(T);
    } finally {
      other.close().block(T);
    }
    assertThat(run.result().block(T)).isEqualTo("done");
  }

  @Test
  void badKeysAndValuesFailWithTypedErrorsAndHostileOnesAreKeptExactly() {
    String hostileKey = "k'; DROP TABLE pgqrs_run_events; --\"\\ ünï 🚀";
    String hostileValue = "'\"\\\u0001\ttab\nline ünï 🚀 " + "x".repeat(100_000);
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> Flux.concat(
            ctx.setEvent("", 1).then(Mono.just("set")).onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("a#b", 1).then(Mono.just("set")).onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("k".repeat(189), 1).then(Mono.just("set"))
                .onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("nul\u0000", 1).then(Mono.just("set"))
                .onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("null", null).then(Mono.just("set"))
                .onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("nul-value", "a\u0000b").then(Mono.just("set"))
                .onErrorResume(e -> Mono.just(e.getClass().getSimpleName())),
            ctx.setEvent("k".repeat(188), 1).then(Mono.just("set")),
            ctx.setEvent(hostileKey, hostileValue).then(Mono.just("set")))
        .collectList()
        .map(outcomes -> String.join(",", outcomes)));
    start(workflow);
    RunHandle<String> run = workflow.trigger("e").block(T);

    assertThat(run.result().block(T)).isEqualTo(String.join(",", "InvalidArgumentException",
        "InvalidArgumentException", "InvalidArgumentException", "InvalidArgumentException",
        "InvalidArgumentException", "SerializationFailedException", "set", "set"));
    StepVerifier.create(run.event(hostileKey, String.class)).expectNext(hostileValue).expectComplete().verify(T);
    StepVerifier.create(run.event("k".repeat(188), Integer.class)).expectNext(1).expectComplete().verify(T);
    StepVerifier.create(run.events("", Integer.class)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(run.event("a#b", Integer.class)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(run.events("k".repeat(189), Integer.class)).expectError(InvalidArgumentException.class)
        .verify(T);
    // A value that does not read as the type asked for.
    StepVerifier.create(run.event(hostileKey, Progress.class)).expectError(SerializationFailedException.class)
        .verify(T);
  }

  @Test
  void eventsOfARunThatIsDeletedOrNeverExistedFailWithRunNotFound() {
    Workflow<String, String> workflow = register(String.class, (ctx, in) -> ctx.setEvent("progress", 1)
        .thenReturn("done"));
    start(workflow);
    RunHandle<String> run = workflow.trigger("f").block(T);
    assertThat(run.result().block(T)).isEqualTo("done");
    assertThat(storedValues(run.runId(), "progress")).containsExactly(1);
    assertThat(run.status().block(T)).isEqualTo(RunStatus.SUCCESS);

    // The retention cleaner's purge, its clock a minute ahead: the run goes with its events.
    StoreResults.FinishedRunsPurged purged = driver().purgeFinishedRuns(
        new StoreParams.PurgeBatch(Duration.ZERO, 10_000, Instant.now().plusSeconds(60))).block(T);
    assertThat(purged.runs()).isPositive();
    assertThat(storedValues(run.runId(), "progress")).isEmpty();
    StepVerifier.create(run.events("progress", Integer.class)).expectError(RunNotFoundException.class).verify(T);
    StepVerifier.create(run.event("progress", Integer.class)).expectError(RunNotFoundException.class).verify(T);
    StepVerifier.create(store.runs().events(Long.MAX_VALUE, "progress", Integer.class))
        .expectError(RunNotFoundException.class).verify(T);
  }
}
