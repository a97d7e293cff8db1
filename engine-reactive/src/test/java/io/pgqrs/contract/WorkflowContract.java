package io.pgqrs.contract;

import io.pgqrs.internal.RunTransitions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.internal.FaultyStore;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.RunExecution;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.SignalTimeoutException;
import io.pgqrs.workflow.Step;
import io.pgqrs.workflow.StepAcquisition;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowFailedException;
import io.pgqrs.workflow.WorkflowFunction;
import io.pgqrs.workflow.WorkflowMethod;
import io.pgqrs.workflow.WorkflowNotFoundException;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Durable workflows on every backend: memoized steps and replay, retries, sleep, signals, pause,
 * cancel, timeouts, idempotent triggers, bad input, step leases, and the low-level API. Every test
 * defines its own workflow (so its own queue) and stops its workers at the end.
 */
public abstract class WorkflowContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();
  private static final RetryPolicy NO_DELAY = RetryPolicy.fixed(Duration.ZERO);

  private final List<WorkflowWorker> workers = new ArrayList<>();

  /** Input of the test workflows. */
  public record Order(String id, int amount) {}

  /** Output of the test workflows. */
  public record Receipt(String id, int total, List<String> steps) {}

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  protected String newWorkflowName() {
    String name = "wf" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return name.length() > 63 ? name.substring(0, 63) : name;
  }

  protected <I, O> Workflow<I, O> register(WorkflowDefinition<I, O> definition) {
    return store.runs().register(definition).block(T);
  }

  protected WorkflowWorker start(Workflow<?, ?> workflow, int concurrency) {
    WorkflowWorker worker = workflow.worker().concurrency(concurrency).pollInterval(Duration.ofMillis(200)).start();
    workers.add(worker);
    return worker;
  }

  protected <I, O> WorkflowDefinition<I, O> define(Class<I> in, Class<O> out, WorkflowFunction<I, O> body) {
    return Workflows.define(newWorkflowName(), in, out, body)
        .withStepOptions(new StepOptions(3, NO_DELAY))
        .withWorkflowRetries(StepOptions.noRetries());
  }

  private static <T> T await(Mono<T> mono) {
    return mono.block(T);
  }

  private RunInfo awaitStatus(RunHandle<?> run, RunStatus status) {
    return Flux.interval(Duration.ofMillis(20)).onBackpressureDrop()
        .concatMap(t -> run.info())
        .filter(info -> info.status() == status)
        .blockFirst(T);
  }

  private List<StepInfo> steps(RunHandle<?> run) {
    return run.steps().collectList().block(T);
  }

  /** The three-step checkout used by several tests; counts executions per step. */
  private WorkflowDefinition<Order, Receipt> checkout(Map<String, AtomicInteger> executions) {
    return define(Order.class, Receipt.class, (ctx, order) -> ctx.step("reserve", String.class, () -> {
              executions.computeIfAbsent("reserve", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just("reserved-" + order.id());
            })
            .flatMap(reserved -> ctx.step("charge", Integer.class, () -> {
              executions.computeIfAbsent("charge", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just(order.amount() * 2);
            }).map(total -> List.of(reserved, "charged-" + total)))
            .flatMap(done -> ctx.step("ship", String.class, () -> {
              executions.computeIfAbsent("ship", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just("shipped-" + order.id());
            }).map(shipped -> new Receipt(order.id(), order.amount() * 2,
                List.of(done.get(0), done.get(1), shipped)))));
  }

  // ---------------------------------------------------------------- happy path and replay

  @Test
  void threeStepWorkflowProducesItsResultAndRecordsEveryStep() {
    Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    Workflow<Order, Receipt> workflow = register(checkout(executions));
    start(workflow, 4);
    RunHandle<Receipt> run = await(workflow.trigger(new Order("o1", 21)));

    StepVerifier.create(run.result())
        .expectNext(new Receipt("o1", 42, List.of("reserved-o1", "charged-42", "shipped-o1")))
        .expectComplete()
        .verify(T);

    RunInfo info = await(run.info());
    assertThat(info.status()).isEqualTo(RunStatus.SUCCESS);
    assertThat(info.workflow()).isEqualTo(workflow.definition().name());
    assertThat(info.finishedAt()).isNotNull();
    assertThat(steps(run)).extracting(StepInfo::stepId).containsExactly("reserve", "charge", "ship");
    assertThat(steps(run)).allSatisfy(s -> {
      assertThat(s.status()).isEqualTo(StepStatus.SUCCESS);
      assertThat(s.attempts()).isEqualTo(1);
    });
    assertThat(executions.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    // The trigger message is archived, not left live.
    assertThat(await(store.queues().metrics(workflow.definition().name())).archived()).isEqualTo(1);
    assertThat(await(store.queues().metrics(workflow.definition().name())).live()).isZero();
  }

  @Test
  void aWorkerThatMeetsATransientErrorWhileStartingGoesOn() {
    try (FaultyStore faulty = FaultyStore.over(store)
        .fail("registerWorker", 2, () -> new io.pgqrs.StoreUnavailableException("register worker", "reset by the test", null))) {
      Workflow<String, String> workflow = faulty.store().runs()
          .register(define(String.class, String.class, (ctx, in) -> ctx.step("echo", String.class, () -> Mono.just(in))))
          .block(T);
      WorkflowWorker worker = workflow.worker().pollInterval(Duration.ofMillis(50)).start();
      try {
        StepVerifier.create(await(workflow.trigger("x")).result()).expectNext("x").expectComplete().verify(T);
        assertThat(worker.isRunning()).isTrue();
        assertThat(faulty.calls("registerWorker")).isEqualTo(3);
      } finally {
        worker.stop().block(T);
      }
    }
  }

  @Test
  void aReplayReturnsRecordedValuesWithoutRunningSuppliers() {
    AtomicInteger first = new AtomicInteger();
    AtomicInteger flaky = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("first", String.class, () -> {
              first.incrementAndGet();
              return Mono.just(in + "-a");
            })
            .flatMap(a -> ctx.step("flaky", String.class, () -> flaky.incrementAndGet() < 3
                ? Mono.error(new IllegalStateException("not yet"))
                : Mono.just(a + "-b")))));
    start(workflow, 1);

    StepVerifier.create(await(workflow.trigger("x")).result()).expectNext("x-a-b").expectComplete().verify(T);
    // Two failed executions of "flaky" replayed the body twice; "first" ran once.
    assertThat(first.get()).isEqualTo(1);
    assertThat(flaky.get()).isEqualTo(3);
  }

  @Test
  void aTamperedRecordIsWhatTheReplaySees() {
    AtomicInteger supplier = new AtomicInteger();
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) ->
        ctx.step("lookup", String.class, () -> {
          supplier.incrementAndGet();
          return Mono.just("real");
        }));
    Workflow<String, String> workflow = register(definition);
    RunHandle<String> run = await(workflow.trigger("x"));

    // Low-level API: take the run's message, record the step with another value, park the run.
    Delivery delivery = store.consumer(definition.name()).build().deliveries().blockFirst(T);
    RunExecution exec = await(store.runs().begin(delivery));
    assertThat(exec.run().id()).isEqualTo(run.runId());
    StepAcquisition acquired = await(exec.acquireStep("lookup", Duration.ofSeconds(30)));
    assertThat(acquired).isInstanceOf(StepAcquisition.Execute.class);
    assertThat(await(exec.recordStepSuccess((StepAcquisition.Execute) acquired, "tampered"))).isTrue();
    assertThat(await(exec.park(null))).isTrue();

    start(workflow, 1);
    StepVerifier.create(run.result()).expectNext("tampered").expectComplete().verify(T);
    assertThat(supplier.get()).isZero();
  }

  @Test
  void parallelStepsGetIdentitiesFromCallOrderAndEmptyStepsReplayEmpty() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> {
      List<Mono<String>> parts = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        int n = i;
        // Later calls complete first: identities must still follow call order.
        parts.add(ctx.step("part", String.class, () -> Mono.delay(Duration.ofMillis(50L * (5 - n))).thenReturn("p" + n)));
      }
      return Flux.concat(parts).collectList()
          .flatMap(list -> ctx.step("nothing", Void.class, Mono::empty).then(Mono.just(String.join(",", list))));
    }));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    StepVerifier.create(run.result()).expectNext("p0,p1,p2,p3,p4").expectComplete().verify(T);
    assertThat(steps(run)).extracting(StepInfo::stepId)
        .containsExactlyInAnyOrder("part", "part#2", "part#3", "part#4", "part#5", "nothing");
    assertThat(steps(run)).filteredOn(s -> s.stepId().equals("part#4")).singleElement()
        .satisfies(s -> assertThat(s.output().asText()).isEqualTo("p3"));
  }

  @Test
  void typedAndUntypedStepsReadBackTheirValues() {
    Workflow<String, Receipt> workflow = register(define(String.class, Receipt.class, (ctx, in) ->
        ctx.step("list", new TypeReference<List<String>>() { }, () -> Mono.just(List.of("a", "b")))
            .zipWith(ctx.<Order>step("order", () -> Mono.just(new Order("o", 3))))
            .map(t -> new Receipt(t.getT2().id(), t.getT2().amount(), t.getT1()))));
    start(workflow, 1);
    StepVerifier.create(await(workflow.trigger("x")).result())
        .expectNext(new Receipt("o", 3, List.of("a", "b"))).expectComplete().verify(T);
  }

  // ---------------------------------------------------------------- retries and errors

  @Test
  void aStepThatKeepsFailingFailsTheRunWithItsLastError() {
    AtomicInteger calls = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("broken", String.class, () -> Mono.error(new IllegalStateException("boom " + calls.incrementAndGet())))));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));

    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(WorkflowFailedException.class)
            .hasMessageContaining("step 'broken' failed after 3 attempts").hasMessageContaining("boom 3"))
        .verify(T);
    assertThat(calls.get()).isEqualTo(3);
    assertThat(steps(run)).singleElement().satisfies(s -> {
      assertThat(s.status()).isEqualTo(StepStatus.ERROR);
      assertThat(s.attempts()).isEqualTo(3);
      assertThat(s.error()).contains("boom 3");
    });
    assertThat(await(run.info()).status()).isEqualTo(RunStatus.ERROR);
  }

  @Test
  void aPermanentErrorIsNotRetriedAndBackoffIsVisibility() {
    AtomicInteger calls = new AtomicInteger();
    Duration backoff = Duration.ofMillis(300);
    StepOptions permanentOnIllegalArgument = new StepOptions(5,
        RetryPolicy.fixed(backoff).retryIf(e -> !(e instanceof IllegalArgumentException)));
    AtomicInteger transientCalls = new AtomicInteger();
    AtomicReference<WorkflowWorker> parking = new AtomicReference<>();
    Sinks.Empty<Void> failedOnce = Sinks.empty();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("transient", String.class, permanentOnIllegalArgument, () -> {
              if (transientCalls.incrementAndGet() > 1) {
                return Mono.just("ok");
              }
              // Stopped now, the worker parks this run and claims nothing more: the parked
              // message can be read before it is due.
              parking.get().stop().subscribe();
              failedOnce.tryEmitEmpty();
              return Mono.error(new IllegalStateException("once"));
            })
            .then(ctx.step("permanent", String.class, permanentOnIllegalArgument, () -> {
              calls.incrementAndGet();
              return Mono.error(new IllegalArgumentException("bad"));
            }))));
    parking.set(start(workflow, 1));
    RunHandle<String> run = await(workflow.trigger("x"));
    await(failedOnce.asMono());
    await(parking.get().stop()); // the stop asked for by the step: completes once the run is parked

    // The retry is the visibility of the run's message, released at least its backoff after the
    // failure by the store's clock (the step's start, recorded by the store, precedes the failure).
    StepInfo failed = steps(run).stream().filter(st -> st.stepId().equals("transient")).findFirst().orElseThrow();
    assertThat(failed.error()).contains("once");
    assertThat(failed.wakeAt()).isNotNull();
    List<io.pgqrs.queue.Message> parked = driver().listMessages(new StoreParams.ListMessages(
        workflow.definition().name(), io.pgqrs.queue.MessageState.LIVE, 0, 10)).collectList().block(T);
    assertThat(parked).singleElement().satisfies(m -> {
      assertThat(m.leaseToken()).as("released").isNull();
      assertThat(m.visibleAt()).isAfterOrEqualTo(failed.startedAt().plus(backoff));
    });
    assertThat(transientCalls).as("not retried before it was due").hasValue(1);

    start(workflow, 1);
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("after 1 attempt").hasMessageContaining("bad"))
        .verify(T);
    assertThat(calls.get()).isEqualTo(1);
    assertThat(transientCalls).hasValue(2);
  }

  @Test
  void theWorkflowItselfIsRetriedUnderItsPolicy() {
    AtomicInteger bodies = new AtomicInteger();
    AtomicInteger step = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("once", String.class, () -> {
              step.incrementAndGet();
              return Mono.just("a");
            })
            .flatMap(a -> bodies.incrementAndGet() < 3 ? Mono.error(new IllegalStateException("flaky body")) : Mono.just(a)))
        .withWorkflowRetries(new StepOptions(3, NO_DELAY)));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    StepVerifier.create(run.result()).expectNext("a").expectComplete().verify(T);
    assertThat(step.get()).isEqualTo(1);
    assertThat(await(run.info()).failures()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- sleep and signals

  @Test
  void aDurableSleepSurvivesAWorkerRestart() throws Exception {
    AtomicInteger before = new AtomicInteger();
    AtomicInteger after = new AtomicInteger();
    CountDownLatch sleeping = new CountDownLatch(1);
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("before", String.class, () -> {
              before.incrementAndGet();
              return Mono.just("b");
            })
            .doOnNext(b -> sleeping.countDown())
            .flatMap(b -> ctx.sleep(Duration.ofSeconds(1)).then(ctx.step("after", String.class, () -> {
              after.incrementAndGet();
              return Mono.just(b + "a");
            })))));
    WorkflowWorker first = start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();
    await(first.stop());
    assertThat(after.get()).isZero();

    start(workflow, 1);
    StepVerifier.create(run.result()).expectNext("ba").expectComplete().verify(T);
    assertThat(before.get()).isEqualTo(1);
    assertThat(after.get()).isEqualTo(1);
    assertThat(steps(run)).filteredOn(s -> s.stepId().equals("pgqrs.sleep")).singleElement()
        .satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.SUCCESS));
  }

  @Test
  void signalsArriveBeforeAndAfterTheWaitBegins() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.awaitSignal("early", String.class, Duration.ofMinutes(5))
            .flatMap(early -> ctx.awaitSignal("late", Integer.class, Duration.ofMinutes(5)).map(late -> early + late))));
    RunHandle<String> run = await(workflow.trigger("x"));
    await(run.signal("early", "e"));   // before any worker, before the wait
    start(workflow, 1);
    Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().concatMap(t -> run.steps().collectList())
        .filter(s -> s.stream().anyMatch(step -> step.stepId().equals("pgqrs.signal.late")
            && step.status() == StepStatus.WAITING))
        .blockFirst(T);
    await(run.signal("late", 7));      // while it waits
    StepVerifier.create(run.result()).expectNext("e7").expectComplete().verify(T);
  }

  @Test
  void aSignalSentWhileTheRunIsStillHeldWakesItWhenItParks() {
    Sinks.Empty<Void> suspend = Sinks.empty();
    try (FaultyStore faulty = FaultyStore.over(store)) {
      Workflow<String, String> workflow = faulty.store().runs()
          .register(define(String.class, String.class, (ctx, in) -> in.equals("warm") ? Mono.just(in)
              : ctx.awaitSignal("go", String.class, Duration.ofMinutes(5))))
          .block(T);
      // A poll the test never reaches: only a wake-up lets the worker take the run again. Without
      // wake-ups (behind a transaction-mode pooler) the poll is the documented path.
      Duration poll = store.config().wakeups() ? Duration.ofHours(1) : Duration.ofMillis(200);
      WorkflowWorker worker = workflow.worker().concurrency(1).pollInterval(poll).start();
      try {
        // Once a first run has ended, the worker is idle and its slot free: the next trigger is
        // executed at once in this engine, with no claim of the worker's own to look again after it.
        StepVerifier.create(await(workflow.trigger("warm")).result()).expectNext("warm").expectComplete().verify(T);
        faulty.hold("suspendRun", suspend.asMono());
        RunHandle<String> run = await(workflow.trigger("x"));
        // The wait is recorded and the run's release held: the signal finds the message still leased.
        Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().concatMap(t -> run.steps().collectList())
            .filter(s -> s.stream().anyMatch(step -> step.stepId().equals("pgqrs.signal.go")
                && step.status() == StepStatus.WAITING))
            .blockFirst(T);
        await(store.runs().signal(run.runId(), "go", "now"));
        suspend.tryEmitEmpty();
        StepVerifier.create(run.result()).expectNext("now").expectComplete().verify(T);
      } finally {
        suspend.tryEmitEmpty();
        worker.stop().block(T);
      }
    }
  }

  @Test
  void aRunsSignalsListTheConsumedWithTheirStepAndThePendingOnesOldestFirst() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.awaitSignal("go", String.class, Duration.ofMinutes(5))));
    RunHandle<String> run = await(workflow.trigger("x"));
    await(run.signal("go", "now"));
    await(run.signal("extra", java.util.Map.of("k", 1)));
    start(workflow, 1);
    StepVerifier.create(run.result()).expectNext("now").expectComplete().verify(T);

    List<io.pgqrs.workflow.SignalInfo> signals = store.runs().signals(run.runId()).collectList().block(T);
    assertThat(signals).extracting(io.pgqrs.workflow.SignalInfo::name, s -> s.value().toString(),
            io.pgqrs.workflow.SignalInfo::consumedBy, io.pgqrs.workflow.SignalInfo::consumed)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("go", "\"now\"", "pgqrs.signal.go", true),
            org.assertj.core.groups.Tuple.tuple("extra", "{\"k\":1}", null, false));
    assertThat(signals).allSatisfy(s -> assertThat(s.runId()).isEqualTo(run.runId()));
    assertThat(signals.get(0).sentAt()).isBeforeOrEqualTo(signals.get(1).sentAt());
    StepVerifier.create(store.runs().signals(Long.MAX_VALUE))
        .expectError(io.pgqrs.workflow.RunNotFoundException.class).verify(T);
  }

  @Test
  void aSignalWaitTimesOutAndTheTimeoutIsRecorded() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.awaitSignal("never", String.class, Duration.ofMillis(300))
            .onErrorResume(SignalTimeoutException.class, e -> Mono.just("timed out: " + e.signal()))));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    StepVerifier.create(run.result()).expectNext("timed out: never").expectComplete().verify(T);
    assertThat(steps(run)).singleElement().satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.ERROR));
  }

  // ---------------------------------------------------------------- the store's clock

  /** The one live message of a workflow's queue (its run's trigger message), read now. */
  protected Mono<Message> liveMessage(String workflow) {
    return driver().listMessages(new StoreParams.ListMessages(workflow, MessageState.LIVE, 0, 10)).next();
  }

  private static Mono<StepInfo> step(RunHandle<?> run, String stepId) {
    return run.steps().filter(s -> s.stepId().equals(stepId)).next();
  }

  @Test
  void aStepRetryIsDueAtTheStoresNowPlusItsDelay() {
    Duration delay = Duration.ofMinutes(10);
    AtomicInteger calls = new AtomicInteger();
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) ->
        ctx.step("later", String.class, new StepOptions(3, RetryPolicy.fixed(delay)), () -> {
          calls.incrementAndGet();
          return Mono.error(new IllegalStateException("not yet"));
        }));
    Workflow<String, String> workflow = register(definition);
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));

    StepInfo retry = StateWait.until("the retry is recorded", T, () -> step(run, "later"),
        s -> s.status() == StepStatus.RETRY);
    // The due time and the record's time come from one statement's now: the store's clock, exactly.
    assertThat(retry.wakeAt()).isEqualTo(retry.updatedAt().plus(delay));
    // The run's message is parked for the delay from the store's now a moment later.
    Message parked = StateWait.until("the run's message is parked", T, () -> liveMessage(definition.name()),
        m -> m.leaseToken() == null);
    assertThat(parked.visibleAt()).isBetween(retry.wakeAt(), retry.wakeAt().plus(T));
    assertThat(calls.get()).isEqualTo(1);
    assertThat(await(run.cancel("no need to wait")).status()).isEqualTo(RunStatus.CANCELLED);
  }

  @Test
  void aReplayedSleepKeepsItsDueTimeAndParksOnlyForWhatRemains() {
    Duration nap = Duration.ofMinutes(10);
    AtomicInteger bodies = new AtomicInteger();
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) -> {
      bodies.incrementAndGet();
      return ctx.sleep(nap).thenReturn(in);
    });
    Workflow<String, String> workflow = register(definition);
    WorkflowWorker first = start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    StepInfo slept = StateWait.until("the sleep is recorded", T, () -> step(run, "pgqrs.sleep"),
        s -> s.status() == StepStatus.WAITING);
    StateWait.until("the run's message is parked", T, () -> liveMessage(definition.name()), m -> m.leaseToken() == null);
    await(first.stop());
    assertThat(slept.wakeAt()).isEqualTo(slept.updatedAt().plus(nap));

    // A restart that wakes the run early: a pause and a resume make its message visible now.
    await(run.pause());
    await(run.resume());
    start(workflow, 1);
    // The replay parks the run again for what is left of the nap, without writing the sleep again.
    StateWait.until("the sleep is replayed", T, () -> Mono.just(bodies.get()), n -> n == 2);
    Message parked = StateWait.until("the run's message is parked again", T, () -> liveMessage(definition.name()),
        m -> m.leaseToken() == null && !m.visibleAt().isBefore(slept.wakeAt()));
    StepInfo replayed = await(step(run, "pgqrs.sleep"));

    assertThat(bodies.get()).isEqualTo(2);
    // The due time is the one recorded first, not a new nap from the replay...
    assertThat(replayed.wakeAt()).isEqualTo(slept.wakeAt());
    // ...and the message waits what the store said remained of it, not a whole nap again.
    assertThat(parked.visibleAt()).isBetween(slept.wakeAt(), slept.wakeAt().plusSeconds(5));
    assertThat(await(run.cancel("no need to wait")).status()).isEqualTo(RunStatus.CANCELLED);
  }

  /** A step record of the run under the lease, written with the store's clock at {@code now}. */
  private boolean record(RunHandle<?> run, StoreParams.LeaseRef lease, String position, String stepId,
      StepStatus status, @Nullable Duration wakeAfter, Instant now) {
    List<StoreResults.StepWritten> written = await(driver().recordSteps(new StoreParams.RecordSteps(List.of(
        new StoreParams.RecordStep(run.runId(), lease, position, stepId, status, null, null,
            status == StepStatus.RETRY ? "later" : null, status == StepStatus.RETRY ? 1 : 0, wakeAfter, null, 0,
            Duration.ZERO)), now)));
    return written.get(0).written();
  }

  /** The run's recorded step as the store tells it to a worker beginning the run at {@code now}. */
  private StoreResults.StepRecord history(RunHandle<?> run, String stepId, Instant now) {
    return await(driver().beginRun(new StoreParams.BeginRun(run.runId(), RunTransitions.BEGIN, now))).history()
        .stream().filter(r -> r.stepId().equals(stepId)).findFirst().orElseThrow();
  }

  private StoreParams.LeaseRef claimRun(String queue, Instant now) {
    Message claimed = await(driver().claim(new StoreParams.Claim(queue, 1, Duration.ofSeconds(30), null, now)))
        .claimed().get(0);
    return new StoreParams.LeaseRef(claimed.id(), claimed.leaseToken(), now);
  }

  @Test
  void theStoreComputesDueTimesAndWhatIsLeftOfThemByItsOwnClock() {
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) -> Mono.just(in))
        .withTimeout(Duration.ofHours(1));
    Workflow<String, String> workflow = register(definition);
    RunHandle<String> run = await(workflow.trigger("x"));
    RunInfo triggered = await(run.info());
    Instant created = triggered.createdAt();
    assertThat(triggered.deadline()).isEqualTo(created.plus(Duration.ofHours(1)));
    // Time moves only through the SPI's clock override, so every expectation is exact.
    Instant at20 = created.plus(Duration.ofMinutes(20));
    Instant at23 = created.plus(Duration.ofMinutes(23));

    StoreParams.LeaseRef first = claimRun(definition.name(), at20);
    StoreResults.RunBegun begun = await(driver().beginRun(new StoreParams.BeginRun(run.runId(), RunTransitions.BEGIN, at20)));
    assertThat(begun.untilDeadline()).isEqualTo(Duration.ofMinutes(40));
    assertThat(begun.history()).isEmpty();
    assertThat(record(run, first, "1", "nap", StepStatus.WAITING, Duration.ofMinutes(10), at20)).isTrue();
    assertThat(await(step(run, "nap")).wakeAt()).isEqualTo(created.plus(Duration.ofMinutes(30)));

    // Begun again three minutes later (the first lease has run out), the wait has seven minutes
    // left; recorded again without a delay, it keeps its due time.
    StoreParams.LeaseRef lease = claimRun(definition.name(), at23);
    StoreResults.StepRecord nap = history(run, "nap", at23);
    assertThat(nap.status()).isEqualTo(StepStatus.WAITING);
    assertThat(nap.untilWake()).isEqualTo(Duration.ofMinutes(7));
    assertThat(record(run, lease, "1", "nap", StepStatus.WAITING, null, at23)).isTrue();
    assertThat(await(step(run, "nap")).wakeAt()).isEqualTo(created.plus(Duration.ofMinutes(30)));

    // A retry due in five minutes has, a minute later, the four that are left.
    assertThat(record(run, lease, "2", "flaky", StepStatus.RETRY, Duration.ofMinutes(5), at23)).isTrue();
    assertThat(await(step(run, "flaky")).wakeAt()).isEqualTo(created.plus(Duration.ofMinutes(28)));
    assertThat(history(run, "flaky", created.plus(Duration.ofMinutes(24))).untilWake())
        .isEqualTo(Duration.ofMinutes(4));

    // The run's message, parked for what is left of the nap, becomes visible when the nap is due;
    // parked for longer than the run has, when its deadline comes.
    assertThat(await(driver().suspendRun(new StoreParams.SuspendRun(run.runId(), lease, Duration.ofMinutes(7), false,
        RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)))).isTrue();
    assertThat(await(store.messages().get(lease.messageId())).visibleAt())
        .isEqualTo(created.plus(Duration.ofMinutes(30)));
    StoreParams.LeaseRef later = claimRun(definition.name(), created.plus(Duration.ofMinutes(31)));
    assertThat(later.messageId()).isEqualTo(lease.messageId());
    assertThat(await(driver().suspendRun(new StoreParams.SuspendRun(run.runId(), later, Duration.ofHours(5), false,
        RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)))).isTrue();
    assertThat(await(store.messages().get(lease.messageId())).visibleAt()).isEqualTo(triggered.deadline());
    assertThat(await(run.cancel("done")).status()).isEqualTo(RunStatus.CANCELLED);
  }

  // ---------------------------------------------------------------- pause, cancel, timeout

  @Test
  void aPausedRunWaitsUntilResumed() {
    AtomicInteger executions = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("work", String.class, () -> {
          executions.incrementAndGet();
          return Mono.just("done");
        })));
    RunHandle<String> run = await(workflow.trigger("x"));
    assertThat(await(run.pause()).status()).isEqualTo(RunStatus.PAUSED);
    assertThat(await(run.pause()).status()).isEqualTo(RunStatus.PAUSED);
    start(workflow, 1);
    // The worker takes the message, finds the run paused and parks it; nothing executes.
    String queue = workflow.definition().name();
    Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().concatMap(t -> store.queues().metrics(queue))
        .filter(m -> m.delayed() == 1).blockFirst(T);
    assertThat(executions.get()).isZero();
    assertThat(await(run.status())).isEqualTo(RunStatus.PAUSED);

    assertThat(await(run.resume()).status()).isIn(RunStatus.QUEUED, RunStatus.RUNNING);
    StepVerifier.create(run.result()).expectNext("done").expectComplete().verify(T);

    // With no worker running, a paused run is cancelled at once.
    stopWorkers();
    RunHandle<String> parked = await(workflow.trigger("y"));
    await(parked.pause());
    assertThat(await(parked.cancel("paused, then cancelled")).status()).isEqualTo(RunStatus.CANCELLED);
    StepVerifier.create(parked.result()).expectError(WorkflowFailedException.class).verify(T);
    assertThat(executions.get()).isEqualTo(1);
    assertThatThrownBy(() -> await(run.resume())).isInstanceOf(RunStateException.class);
    assertThatThrownBy(() -> await(run.pause())).isInstanceOf(RunStateException.class);
  }

  @Test
  void cancellingAQueuedRunEndsItAtOnce() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> Mono.just("never")));
    RunHandle<String> run = await(workflow.trigger("x"));
    RunInfo cancelled = await(run.cancel("not needed"));
    assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(cancelled.error()).isEqualTo("not needed");
    assertThat(await(run.cancel("again")).status()).isEqualTo(RunStatus.CANCELLED);
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(WorkflowFailedException.class)
            .satisfies(f -> assertThat(((WorkflowFailedException) f).status()).isEqualTo(RunStatus.CANCELLED)))
        .verify(T);
    assertThat(await(store.queues().metrics(workflow.definition().name())).live()).isZero();
  }

  @Test
  void cancellingARunningStepCancelsItsSubscription() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean cancelled = new AtomicBoolean();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("slow", String.class, () -> Mono.<String>never()
            .doOnSubscribe(s -> started.countDown())
            .doOnCancel(() -> cancelled.set(true)))));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(await(run.cancel("stop it")).status()).isIn(RunStatus.CANCELLING, RunStatus.CANCELLED);
    StepVerifier.create(run.result()).expectError(WorkflowFailedException.class).verify(T);
    assertThat(await(run.info())).satisfies(info -> {
      assertThat(info.status()).isEqualTo(RunStatus.CANCELLED);
      assertThat(info.error()).isEqualTo("stop it");
    });
    assertThat(cancelled.get()).isTrue();
  }

  @Test
  void cancellingAWaitingRunAndFinishedRunsRefuseChanges() {
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) ->
        ctx.awaitSignal("go", String.class, Duration.ofHours(1)));
    Workflow<String, String> workflow = register(definition);
    start(workflow, 1);
    RunHandle<String> waiting = await(workflow.trigger("x"));
    Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().concatMap(t -> waiting.steps().collectList())
        .filter(s -> s.stream().anyMatch(step -> step.status() == StepStatus.WAITING)).blockFirst(T);
    // The step is recorded as waiting a moment before the worker lets the run go; a run cancelled
    // in between is still held, and CANCELLING, so wait until nobody holds it.
    Flux.interval(Duration.ofMillis(20)).onBackpressureDrop().concatMap(t -> store.queues().metrics(definition.queue()))
        .filter(m -> m.leased() == 0).blockFirst(T);
    assertThat(await(waiting.cancel("bored")).status()).isEqualTo(RunStatus.CANCELLED);
    assertThatThrownBy(() -> await(waiting.signal("go", "late")))
        .isInstanceOf(RunStateException.class).hasMessageContaining("CANCELLED");

    RunHandle<String> done = await(workflow.trigger("y"));
    await(done.signal("go", "now"));
    StepVerifier.create(done.result()).expectNext("now").expectComplete().verify(T);
    assertThatThrownBy(() -> await(done.cancel("too late"))).isInstanceOf(RunStateException.class);
    assertThatThrownBy(() -> await(done.signal("go", "again"))).isInstanceOf(RunStateException.class);
    assertThat(await(done.status())).isEqualTo(RunStatus.SUCCESS);
  }

  @Test
  void aRunPastItsDeadlineFails() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.awaitSignal("never", String.class, Duration.ofHours(1)))
        .withTimeout(Duration.ofMillis(500)));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("x"));
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(WorkflowFailedException.class).hasMessageContaining("timed out"))
        .verify(T);
    assertThat(await(run.info()).deadline()).isNotNull();
  }

  @Test
  void maintenanceEndsARunPastItsDeadlineThatNoWorkerHolds() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> Mono.just(in))
        .withTimeout(Duration.ofMillis(100)));
    RunHandle<String> run = await(workflow.trigger("x"));
    Flux.interval(Duration.ofMillis(50)).onBackpressureDrop()
        .concatMap(t -> store.maintenance().runOnce())
        .filter(report -> report.ran() && report.runsFailed() > 0)
        .blockFirst(T);
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("timed out"))
        .verify(T);
    assertThat(await(store.queues().metrics(workflow.definition().name())).live()).isZero();
  }

  // ---------------------------------------------------------------- triggers and bad input

  @Test
  void anIdempotencyKeyReturnsTheExistingRun() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> Mono.just(in)));
    RunHandle<String> first = await(workflow.trigger("a", "key-1"));
    RunHandle<String> second = await(workflow.trigger("b", "key-1"));
    RunHandle<String> other = await(workflow.trigger("c", "key-2"));
    assertThat(second.runId()).isEqualTo(first.runId());
    assertThat(other.runId()).isNotEqualTo(first.runId());
    start(workflow, 1);
    StepVerifier.create(second.result()).expectNext("a").expectComplete().verify(T);
    StepVerifier.create(other.result()).expectNext("c").expectComplete().verify(T);
    assertThat(store.runs().list(RunQuery.all().withWorkflow(workflow.definition().name())).collectList().block(T))
        .hasSize(2);
    assertThat(await(store.queues().metrics(workflow.definition().name())).archived()).isEqualTo(2);
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void badInputIsATypedErrorAndStoresNothing() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> Mono.just(in)));
    assertThatThrownBy(() -> await(((Workflow) workflow).trigger(42))).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> await(workflow.trigger("x", ""))).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> await(driver().triggerRun(new StoreParams.TriggerRun("no_such_workflow", "no_such_workflow", null, "{}", null, null, null, null))))
        .isInstanceOf(WorkflowNotFoundException.class);
    assertThatThrownBy(() -> await(store.runs().get(Long.MAX_VALUE))).isInstanceOf(io.pgqrs.workflow.RunNotFoundException.class);
    assertThatThrownBy(() -> await(store.runs().signal(Long.MAX_VALUE, "s", "v")))
        .isInstanceOf(io.pgqrs.workflow.RunNotFoundException.class);
    assertThat(store.runs().list(RunQuery.all().withWorkflow(workflow.definition().name())).collectList().block(T)).isEmpty();
    assertThat(await(store.queues().metrics(workflow.definition().name())).live()).isZero();
  }

  /** Not serializable by Jackson: no properties, and FAIL_ON_EMPTY_BEANS is on. */
  static final class Opaque {
  }

  @Test
  void aNonSerializableStepOutputFailsTheStepForGood() {
    AtomicInteger calls = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("opaque", Opaque.class, () -> {
          calls.incrementAndGet();
          return Mono.just(new Opaque());
        }).thenReturn("unreachable")));
    start(workflow, 1);
    StepVerifier.create(await(workflow.trigger("x")).result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("cannot be serialized"))
        .verify(T);
    assertThat(calls.get()).isEqualTo(1);
  }

  @Test
  void reusingAStepNameForOtherCodeIsReported() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) ->
        ctx.step("same", String.class, () -> Mono.just("a"))
            .flatMap(a -> ctx.step("same", String.class, () -> Mono.just("b")))));
    start(workflow, 1);
    StepVerifier.create(await(workflow.trigger("x")).result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("step name 'same' is used by different code"))
        .verify(T);
  }

  // ---------------------------------------------------------------- step leases and concurrency

  @Test
  void aRunHeldByAnotherWorkerIsNotExecutedUntilItsLeaseExpires() {
    AtomicInteger executions = new AtomicInteger();
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger maxConcurrent = new AtomicInteger();
    WorkflowDefinition<String, String> definition = define(String.class, String.class, (ctx, in) ->
        ctx.step("exclusive", String.class, () -> Mono.fromCallable(() -> {
          maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
          executions.incrementAndGet();
          return "mine";
        }).doFinally(s -> concurrent.decrementAndGet())));
    Workflow<String, String> workflow = register(definition);
    RunHandle<String> run = await(workflow.trigger("x"));

    // Another "worker" takes the run's message for 2 s and vanishes without a word: the run's
    // lease is the only lease, and nobody keeps it alive.
    Message held = await(driver().claim(new StoreParams.Claim(definition.name(), 1, Duration.ofSeconds(2), null, null)))
        .claimed().get(0);
    Instant leaseEnds = Instant.now().plusSeconds(2);

    start(workflow, 2);
    StepVerifier.create(run.result()).expectNext("mine").expectComplete().verify(T);
    assertThat(Instant.now()).isAfterOrEqualTo(leaseEnds.minusMillis(200));
    assertThat(executions.get()).isEqualTo(1);
    assertThat(maxConcurrent.get()).isEqualTo(1);
    // The abandoned execution can no longer record anything.
    StoreResults.StepWritten stale = await(driver().recordSteps(new StoreParams.RecordSteps(List.of(
        new StoreParams.RecordStep(run.runId(), new StoreParams.LeaseRef(held.id(), held.leaseToken(), null), "1",
            "exclusive", StepStatus.SUCCESS, "\"stale\"", null, null, 1, null, null, 1, Duration.ZERO)), null))).get(0);
    assertThat(stale.written()).isFalse();
    assertThat(steps(run)).singleElement().satisfies(s -> assertThat(s.attempts()).isEqualTo(1));
  }

  @Test
  void twoWorkersRunManyRunsEachStepOnce() {
    Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    WorkflowDefinition<Integer, Integer> definition = define(Integer.class, Integer.class, (ctx, n) ->
        ctx.step("one", Integer.class, () -> {
              executions.computeIfAbsent(ctx.runId() + "/one", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just(n + 1);
            })
            .flatMap(a -> ctx.step("two", Integer.class, () -> {
              executions.computeIfAbsent(ctx.runId() + "/two", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just(a * 2).subscribeOn(Schedulers.parallel());
            })));
    Workflow<Integer, Integer> workflow = register(definition);
    start(workflow, 4);
    start(workflow, 4);
    int runs = runsForConcurrency();
    List<RunHandle<Integer>> handles = Flux.range(0, runs).concatMap(workflow::trigger).collectList().block(T);
    List<Integer> results = Flux.fromIterable(handles).flatMap(RunHandle::result, 32).collectList()
        .block(Duration.ofMinutes(2));
    assertThat(results).hasSize(runs);
    assertThat(results.stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(java.util.stream.IntStream.range(0, runs).map(n -> (n + 1) * 2).sum());
    assertThat(executions).hasSize(runs * 2);
    assertThat(executions.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
  }

  /** How many runs the concurrency test triggers; slow backends may lower it. */
  protected int runsForConcurrency() {
    return 200;
  }

  // ---------------------------------------------------------------- annotations and inspection

  /** Steps declared on an interface. */
  public interface Inventory {
    @Step("count")
    Mono<Integer> count(String sku);

    @Step(value = "names", maxAttempts = 1)
    Mono<List<String>> names();
  }

  /** An inventory whose count is the SKU's length and whose names are x and y; counts its counts. */
  private static Inventory countingInventory(AtomicInteger counts) {
    return new Inventory() {
      @Override
      public Mono<Integer> count(String sku) {
        counts.incrementAndGet();
        return Mono.just(sku.length());
      }

      @Override
      public Mono<List<String>> names() {
        return Mono.just(List.of("x", "y"));
      }
    };
  }

  @Test
  void annotatedStepsAreMemoized() {
    AtomicInteger counts = new AtomicInteger();
    Inventory real = countingInventory(counts);
    AtomicInteger replays = new AtomicInteger();
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> {
      Inventory inventory = ctx.steps(Inventory.class, real);
      return inventory.count(in)
          .zipWith(inventory.names())
          .flatMap(t -> replays.incrementAndGet() == 1
              ? ctx.sleep(Duration.ofMillis(10)).then(Mono.just(t.getT1() + ":" + t.getT2()))
              : Mono.just(t.getT1() + ":" + t.getT2()));
    }));
    start(workflow, 1);
    RunHandle<String> run = await(workflow.trigger("abcd"));
    StepVerifier.create(run.result()).expectNext("4:[x, y]").expectComplete().verify(T);
    assertThat(counts.get()).isEqualTo(1);
    assertThat(replays.get()).isGreaterThanOrEqualTo(2);
    assertThat(steps(run)).extracting(StepInfo::stepId).contains("count", "names");
  }

  /** A workflow declared by annotation; its name is set per test class. */
  public static final class Counting {
    private final Inventory inventory;

    Counting(Inventory inventory) {
      this.inventory = inventory;
    }

    @io.pgqrs.workflow.WorkflowMethod
    public Mono<Integer> counting(io.pgqrs.workflow.RunContext ctx, String sku) {
      return ctx.steps(Inventory.class, inventory).count(sku).map(n -> n * 10);
    }
  }

  @Test
  void aWorkflowMethodDefinesAWorkflow() {
    AtomicInteger counts = new AtomicInteger();
    Inventory real = countingInventory(counts);
    WorkflowDefinition<String, Integer> annotated = Workflows.fromAnnotated(new Counting(real));
    assertThat(annotated.name()).isEqualTo("counting");
    assertThat(annotated.inputType()).isEqualTo(String.class);
    assertThat(annotated.outputType()).isEqualTo(Integer.class);
    Workflow<String, Integer> workflow = register(Workflows.define(newWorkflowName(), annotated.inputType(),
        annotated.outputType(), annotated.body()));
    start(workflow, 1);
    StepVerifier.create(await(workflow.trigger("abc")).result()).expectNext(30).expectComplete().verify(T);
    assertThat(counts.get()).isEqualTo(1);
    assertThatThrownBy(() -> Workflows.fromAnnotated(new Object())).isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void runsAreListedByWorkflowStatusAndPage() {
    Workflow<String, String> workflow = register(define(String.class, String.class, (ctx, in) -> Mono.just(in)));
    String name = workflow.definition().name();
    List<Long> ids = Flux.range(0, 5).concatMap(i -> workflow.trigger("r" + i)).map(RunHandle::runId)
        .collectList().block(T);
    await(workflow.run(ids.get(0)).cancel("first"));

    RunQuery query = RunQuery.all().withWorkflow(name);
    assertThat(store.runs().list(query).map(RunInfo::id).collectList().block(T))
        .containsExactly(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0));
    assertThat(store.runs().list(query.withStatus(RunStatus.CANCELLED)).map(RunInfo::id).collectList().block(T))
        .containsExactly(ids.get(0));
    assertThat(store.runs().list(query.withLimit(2).withBeforeId(ids.get(3))).map(RunInfo::id).collectList().block(T))
        .containsExactly(ids.get(2), ids.get(1));
    assertThat(store.runs().list(query.withCreatedBetween(Instant.now().plusSeconds(3600), null)).collectList().block(T))
        .isEmpty();
    assertThatThrownBy(() -> store.runs().list(query.withLimit(0)).blockFirst(T))
        .isInstanceOf(InvalidArgumentException.class);
  }
}
