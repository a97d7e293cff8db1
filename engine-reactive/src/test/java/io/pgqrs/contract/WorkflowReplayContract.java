package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowFunction;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.pgqrs.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * The run-lease protocol's replay on every backend: step identities that do not depend on timing
 * in nested concurrent branches across many interrupted executions, scopes, versions, patches,
 * nondeterminism, and the local fast path.
 */
public abstract class WorkflowReplayContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  private final List<WorkflowWorker> workers = new ArrayList<>();

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  /** How many interrupted executions the crash-and-resume test goes through. */
  protected int replayCycles() {
    return 100;
  }

  private String newWorkflowName() {
    String name = "rp" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return name.length() > 50 ? name.substring(0, 50) : name;
  }

  private <I, O> WorkflowDefinition<I, O> define(String name, Class<I> in, Class<O> out, WorkflowFunction<I, O> body) {
    return Workflows.define(name, in, out, body)
        .withStepOptions(new StepOptions(3, RetryPolicy.fixed(Duration.ZERO)))
        .withWorkflowRetries(StepOptions.noRetries());
  }

  private <I, O> Workflow<I, O> register(WorkflowDefinition<I, O> definition) {
    return store.runs().register(definition).block(T);
  }

  private WorkflowWorker start(Workflow<?, ?> workflow, int concurrency, Duration shutdownTimeout) {
    WorkflowWorker worker = workflow.worker().concurrency(concurrency).pollInterval(Duration.ofMillis(100))
        .shutdownTimeout(shutdownTimeout).start();
    workers.add(worker);
    return worker;
  }

  private static <T> Mono<T> jittered(T value) {
    return Mono.just(value).delayElement(Duration.ofMillis(ThreadLocalRandom.current().nextInt(6)));
  }

  // ---------------------------------------------------------------- the tail of a run

  /** The steps recorded for a run as the store has them now, in position order, as "id" list text. */
  private Mono<String> durableSteps(long runId) {
    return store.runs().steps(runId).filter(s -> s.status() == io.pgqrs.workflow.StepStatus.SUCCESS)
        .map(StepInfo::stepId).collectSortedList().map(ids -> String.join(",", ids));
  }

  /**
   * A run's last step is written with its finish, in one statement; every other step's record is
   * in the store before the next step's body starts, which each step checks by reading the store.
   */
  @Test
  void theLastStepIsWrittenWithTheFinishAndEachOtherBeforeTheNextStepStarts() {
    try (io.pgqrs.internal.FaultyStore faulty = io.pgqrs.internal.FaultyStore.over(store)) {
      Workflow<String, String> workflow = faulty.store().runs().register(define(newWorkflowName(), String.class,
          String.class, (ctx, in) -> ctx.step("one", String.class, () -> durableSteps(ctx.runId()).map(d -> "[" + d + "]"))
              .flatMap(one -> ctx.step("two", String.class, () -> durableSteps(ctx.runId()).map(d -> one + "[" + d + "]")))
              .flatMap(two -> ctx.step("three", String.class,
                  () -> durableSteps(ctx.runId()).map(d -> two + "[" + d + "]"))))).block(T);
      WorkflowWorker worker = workflow.worker().concurrency(1).pollInterval(Duration.ofMillis(100)).start();
      workers.add(worker);
      RunHandle<String> run = workflow.trigger("x").block(T);
      StepVerifier.create(run.result()).expectNext("[][one][one,two]").expectComplete().verify(T);
      assertThat(run.steps().collectList().block(T)).extracting(StepInfo::stepId, StepInfo::status)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("one", io.pgqrs.workflow.StepStatus.SUCCESS),
              org.assertj.core.groups.Tuple.tuple("two", io.pgqrs.workflow.StepStatus.SUCCESS),
              org.assertj.core.groups.Tuple.tuple("three", io.pgqrs.workflow.StepStatus.SUCCESS));
      assertThat(faulty.calls("recordSteps")).as("step records written on their own").isEqualTo(2);
      assertThat(faulty.firstArguments("finishRuns")).singleElement().satisfies(batch ->
          assertThat(((io.pgqrs.spi.StoreParams.FinishRuns) batch).runs()).singleElement()
              .satisfies(finish -> assertThat(finish.steps()).extracting(io.pgqrs.spi.StoreParams.RecordStep::stepId)
                  .containsExactly("three")));
    }
  }

  /**
   * In concurrent branches, a step that ends while another branch's step still runs is in the
   * store before any later step of its own branch starts.
   */
  @Test
  void aBranchsStepIsWrittenBeforeItsBranchGoesOnWhileAnotherBranchRuns() {
    Sinks.Empty<Void> slowMayEnd = Sinks.empty();
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class, (ctx, in) ->
        Flux.merge(
                ctx.step("a1", String.class, () -> Mono.just("a1"))
                    .flatMap(a1 -> ctx.step("a2", String.class, () -> durableSteps(ctx.runId())
                        .doOnNext(d -> slowMayEnd.tryEmitEmpty()))),
                ctx.step("slow", String.class, () -> slowMayEnd.asMono().thenReturn("slow")))
            .collectSortedList()
            .map(list -> String.join("|", list))));
    start(workflow, 1, Duration.ZERO);
    RunHandle<String> run = workflow.trigger("x").block(T);
    StepVerifier.create(run.result()).expectNext("a1|slow").expectComplete().verify(T);
    assertThat(run.steps().collectList().block(T)).extracting(StepInfo::stepId)
        .containsExactlyInAnyOrder("a1", "a2", "slow");
  }

  /**
   * A finish that never commits takes the run's last step with it: the next execution replays the
   * steps before it and runs the last one again, once, and the run ends with the right output.
   */
  @Test
  void aFinishThatIsLostTakesOnlyTheLastStepWithIt() {
    Map<String, AtomicInteger> ran = new ConcurrentHashMap<>();
    try (io.pgqrs.internal.FaultyStore faulty = io.pgqrs.internal.FaultyStore.over(store)
        .fail("finishRuns", 1, () -> new IllegalStateException("the finish is lost by the test"))) {
      Workflow<String, String> workflow = faulty.store().runs().register(define(newWorkflowName(), String.class,
          String.class, (ctx, in) -> ctx.step("one", String.class, () -> {
                ran.computeIfAbsent("one", k -> new AtomicInteger()).incrementAndGet();
                return Mono.just(in + "-1");
              })
              .flatMap(one -> ctx.step("two", String.class, () -> {
                ran.computeIfAbsent("two", k -> new AtomicInteger()).incrementAndGet();
                return Mono.just(one + "-2");
              })))).block(T);
      WorkflowWorker worker = workflow.worker().concurrency(1).lease(Duration.ofSeconds(1))
          .pollInterval(Duration.ofMillis(50)).start();
      workers.add(worker);
      RunHandle<String> run = workflow.trigger("x").block(T);
      StepVerifier.create(run.result()).expectNext("x-1-2").expectComplete().verify(T);
      assertThat(faulty.calls("finishRuns")).isGreaterThanOrEqualTo(2);
      assertThat(ran.get("one").get()).as("the step before the last").isEqualTo(1);
      assertThat(ran.get("two").get()).as("the last step, whose record went with the lost finish").isEqualTo(2);
      assertThat(run.steps().collectList().block(T)).extracting(StepInfo::stepId, StepInfo::attempts)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("one", 1), org.assertj.core.groups.Tuple.tuple("two", 1));
      var metrics = store.queues().metrics(workflow.definition().name()).block(T);
      assertThat(metrics.archived()).isEqualTo(1);
      assertThat(metrics.live()).isZero();
    }
  }

  /**
   * A cancel that reaches the store while the last step runs ends the run CANCELLED with its
   * reason, whether the engine sees it before the body ends or the finish finds it: the step's
   * body ran once and the message is archived.
   */
  @Test
  void aCancelDuringTheLastStepEndsTheRunCancelled() {
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    Sinks.Empty<Void> mayEnd = Sinks.empty();
    AtomicInteger ran = new AtomicInteger();
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("last", String.class, () -> {
          ran.incrementAndGet();
          started.countDown();
          return mayEnd.asMono().thenReturn("done");
        })));
    start(workflow, 1, Duration.ofSeconds(5));
    RunHandle<String> run = workflow.trigger("x").block(T);
    StateWait.until("the step runs", T, () -> Mono.just(started.getCount()), n -> n == 0);
    RunInfo cancelling = driver().controlRun(io.pgqrs.internal.RunTransitions.cancel(run.runId(), "stop it")).block(T);
    assertThat(cancelling.status()).isEqualTo(RunStatus.CANCELLING);
    mayEnd.tryEmitEmpty();
    RunInfo ended = StateWait.until("the run is cancelled", T, run::info, r -> r.status().isFinished());
    assertThat(ended.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(ended.error()).isEqualTo("stop it");
    assertThat(ended.output()).isNull();
    assertThat(ran.get()).isEqualTo(1);
    var metrics = store.queues().metrics(workflow.definition().name()).block(T);
    assertThat(metrics.live()).isZero();
  }

  /**
   * A pause that reaches the store while a step runs stops the run at the next step: the step's
   * record, written before the next step may start, tells of the pause, and the next step's body
   * does not run until the run is resumed; then it runs once and the first step is replayed.
   */
  @Test
  void aPauseDuringAStepHoldsTheNextStepUntilTheRunIsResumed() {
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    Sinks.Empty<Void> mayEnd = Sinks.empty();
    Map<String, AtomicInteger> ran = new ConcurrentHashMap<>();
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> {
              ran.computeIfAbsent("one", k -> new AtomicInteger()).incrementAndGet();
              started.countDown();
              return mayEnd.asMono().thenReturn(in + "-1");
            })
            .flatMap(one -> ctx.step("two", String.class, () -> {
              ran.computeIfAbsent("two", k -> new AtomicInteger()).incrementAndGet();
              return Mono.just(one + "-2");
            }))));
    start(workflow, 1, Duration.ofSeconds(5));
    RunHandle<String> run = workflow.trigger("x").block(T);
    StateWait.until("step one runs", T, () -> Mono.just(started.getCount()), n -> n == 0);
    assertThat(driver().controlRun(io.pgqrs.internal.RunTransitions.pause(run.runId(), null)).block(T).status())
        .isEqualTo(RunStatus.PAUSED);
    mayEnd.tryEmitEmpty();
    StateWait.until("step one is recorded", T, () -> run.steps().collectList(),
        steps -> steps.stream().anyMatch(st -> st.stepId().equals("one")
            && st.status() == io.pgqrs.workflow.StepStatus.SUCCESS));
    assertThat(run.info().block(T).status()).isEqualTo(RunStatus.PAUSED);
    assertThat(ran.get("two")).as("step two waits for the resume").isNull();
    run.resume().block(T);
    StepVerifier.create(run.result()).expectNext("x-1-2").expectComplete().verify(T);
    assertThat(ran.get("one").get()).isEqualTo(1);
    assertThat(ran.get("two").get()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- deterministic identity

  /**
   * Three outer branches run concurrently; each, in the continuation of its own step, runs two
   * concurrent inner steps of the same name and then a join step of the same name as the other
   * branches' joins. Every step's value names its branch, so a replay that handed one branch
   * another branch's record would show in the result. Executions are interrupted at random points
   * (the worker stopped at once, its steps in flight cancelled), over many runs; after each
   * interruption no recorded step's body may run again, and every run's result must be exact.
   */
  @Test
  void nestedConcurrentBranchesReplayExactlyAcrossInterruptedExecutions() {
    Set<String> recordedAtInterruption = ConcurrentHashMap.newKeySet();
    AtomicInteger reExecutedRecordedSteps = new AtomicInteger();
    AtomicReference<Sinks.One<Boolean>> interruptNow = new AtomicReference<>(Sinks.one());
    AtomicInteger interruptsLeftInRun = new AtomicInteger();
    WorkflowFunction<String, String> body = (ctx, in) -> {
      java.util.function.Function<String, Mono<String>> work = value -> {
        if (recordedAtInterruption.contains(value)) {
          reExecutedRecordedSteps.incrementAndGet();
        }
        if (interruptsLeftInRun.get() > 0 && ThreadLocalRandom.current().nextInt(4) == 0) {
          interruptNow.get().tryEmitValue(true);
        }
        return jittered(value);
      };
      return Flux.range(0, 3)
          .flatMap(i -> ctx.step("outer", String.class, () -> work.apply(in + "-o" + i))
              .flatMap(outer -> Flux.just("/a", "/b")
                  .flatMap(half -> ctx.step("inner", String.class, () -> work.apply(outer + half)))
                  .collectSortedList()
                  .flatMap(inner -> ctx.step("join", String.class, () -> work.apply(String.join("+", inner))))), 3)
          .collectSortedList()
          .map(joined -> String.join(",", joined));
    };
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class, body));
    int cycles = 0;
    int runs = 0;
    while (cycles < replayCycles()) {
      String input = "r" + runs++;
      interruptsLeftInRun.set(3);
      RunHandle<String> run = workflow.trigger(input).block(T);
      Mono<String> result = run.result().cache();
      while (true) {
        Sinks.One<Boolean> interrupt = Sinks.one();
        interruptNow.set(interrupt);
        WorkflowWorker worker = start(workflow, 1, Duration.ZERO);
        Boolean interrupted = Mono.firstWithSignal(interrupt.asMono(), result.map(r -> false)).block(T);
        if (!Boolean.TRUE.equals(interrupted)) {
          worker.stop().block(T);
          break;
        }
        interruptsLeftInRun.decrementAndGet();
        worker.stop().block(T);
        cycles++;
        for (StepInfo step : run.steps().collectList().block(T)) {
          if (step.output() != null && step.output().isTextual()) {
            recordedAtInterruption.add(step.output().asText());
          }
        }
      }
      String expected = IntStream.range(0, 3)
          .mapToObj(i -> input + "-o" + i + "/a+" + input + "-o" + i + "/b")
          .sorted()
          .collect(Collectors.joining(","));
      assertThat(result.block(T)).as("run %s after interrupted executions", input).isEqualTo(expected);
      assertThat(run.steps().collectList().block(T))
          .extracting(StepInfo::stepId)
          .hasSize(12)
          .doesNotHaveDuplicates();
    }
    assertThat(reExecutedRecordedSteps.get()).as("bodies of recorded steps executed again").isZero();
  }

  @Test
  void scopesNumberTheirStepsWithinTheScope() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class, (ctx, in) ->
        Flux.just("x", "y")
            .flatMap(key -> ctx.scope("item-" + key, () -> ctx.step("load", String.class, () -> jittered(key))
                .publishOn(reactor.core.scheduler.Schedulers.parallel())
                .flatMap(v -> ctx.step("save", String.class, () -> jittered(v + "!")))))
            .collectSortedList()
            .map(list -> String.join(",", list))));
    start(workflow, 2, Duration.ofSeconds(5));
    RunHandle<String> run = workflow.trigger("in").block(T);
    assertThat(run.result().block(T)).isEqualTo("x!,y!");
    assertThat(run.steps().collectList().block(T))
        .extracting(StepInfo::stepId, StepInfo::position)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("item-x/load", "item-x/1"),
            org.assertj.core.groups.Tuple.tuple("item-x/save", "item-x/2"),
            org.assertj.core.groups.Tuple.tuple("item-y/load", "item-y/1"),
            org.assertj.core.groups.Tuple.tuple("item-y/save", "item-y/2"));
  }

  @Test
  void aMalformedScopeKeyFailsWithATypedError() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class, (ctx, in) ->
        ctx.scope("a/b", () -> Mono.just("never"))));
    start(workflow, 1, Duration.ofSeconds(5));
    StepVerifier.create(workflow.trigger("in").block(T).result())
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("scope key"))
        .verify(T);
  }

  // ---------------------------------------------------------------- versions

  @Test
  void aWorkerExecutesOnlyRunsOfItsVersion() {
    String name = newWorkflowName();
    AtomicInteger byOne = new AtomicInteger();
    AtomicInteger byTwo = new AtomicInteger();
    Workflow<String, String> one = register(define(name, String.class, String.class,
        (ctx, in) -> ctx.step("s", String.class, () -> {
          byOne.incrementAndGet();
          return Mono.just("v1:" + in);
        })).withVersion("1"));
    Workflow<String, String> two = register(define(name, String.class, String.class,
        (ctx, in) -> ctx.step("s", String.class, () -> {
          byTwo.incrementAndGet();
          return Mono.just("v2:" + in);
        })).withVersion("2"));
    start(two, 2, Duration.ofSeconds(5));
    RunHandle<String> old = one.trigger("a").block(T);
    RunHandle<String> fresh = two.trigger("b").block(T);
    assertThat(fresh.result().block(T)).isEqualTo("v2:b");
    RunInfo waiting = old.info().block(T);
    assertThat(waiting.version()).isEqualTo("1");
    assertThat(waiting.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(fresh.info().block(T).version()).isEqualTo("2");
    start(one, 1, Duration.ofSeconds(5));
    assertThat(old.result().block(T)).isEqualTo("v1:a");
    assertThat(byOne.get()).isEqualTo(1);
    assertThat(byTwo.get()).isEqualTo(1);
  }

  @Test
  void aMalformedVersionIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> define(newWorkflowName(), String.class, String.class,
            (ctx, in) -> Mono.just(in)).withVersion("two words"))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("version");
  }

  // ---------------------------------------------------------------- patches and nondeterminism

  /** A body that records step "a", then waits for signal "go", then runs step "b". */
  private static WorkflowFunction<String, String> beforeChange() {
    return (ctx, in) -> ctx.step("a", String.class, () -> Mono.just("a"))
        .flatMap(a -> ctx.awaitSignal("go", String.class, Duration.ofMinutes(5)))
        .flatMap(go -> ctx.step("b", String.class, () -> Mono.just("b:" + go)));
  }

  @Test
  void patchedIsFalseForRunsRecordedBeforeTheChangeAndTrueForNewOnes() {
    String name = newWorkflowName();
    Workflow<String, String> old = register(define(name, String.class, String.class, beforeChange()));
    WorkflowWorker oldWorker = start(old, 1, Duration.ofSeconds(5));
    RunHandle<String> recordedBefore = old.trigger("x").block(T);
    StateWait.until("the old run waits for its signal", T, () -> recordedBefore.steps().collectList(),
        steps -> steps.stream().anyMatch(s -> s.stepId().equals("pgqrs.signal.go")));
    oldWorker.stop().block(T);
    Workflow<String, String> changed = register(define(name, String.class, String.class,
        (ctx, in) -> ctx.step("a", String.class, () -> Mono.just("a"))
            .flatMap(a -> ctx.patched("audit"))
            .flatMap(audit -> (audit ? ctx.step("audit", String.class, () -> Mono.just("audited")) : Mono.just("-"))
                .flatMap(x -> ctx.awaitSignal("go", String.class, Duration.ofMinutes(5)))
                .flatMap(go -> ctx.step("b", String.class, () -> Mono.just("b:" + go + ":" + audit))))));
    start(changed, 2, Duration.ofSeconds(5));
    RunHandle<String> recordedAfter = changed.trigger("y").block(T);
    StateWait.until("the new run waits for its signal", T, () -> recordedAfter.steps().collectList(),
        steps -> steps.stream().anyMatch(s -> s.stepId().equals("pgqrs.signal.go")));
    recordedBefore.signal("go", "1").block(T);
    recordedAfter.signal("go", "2").block(T);
    assertThat(recordedBefore.result().block(T)).isEqualTo("b:1:false");
    assertThat(recordedAfter.result().block(T)).isEqualTo("b:2:true");
    assertThat(recordedAfter.steps().collectList().block(T)).extracting(StepInfo::stepId)
        .containsExactly("a", "pgqrs.patch.audit", "audit", "pgqrs.signal.go", "b");
    assertThat(recordedBefore.steps().collectList().block(T)).extracting(StepInfo::stepId)
        .containsExactly("a", "pgqrs.signal.go", "b");
  }

  @Test
  void aHistoryWrittenByOtherCodePausesTheRunWithANondeterminismError() {
    String name = newWorkflowName();
    Workflow<String, String> old = register(define(name, String.class, String.class, beforeChange()));
    WorkflowWorker oldWorker = start(old, 1, Duration.ofSeconds(5));
    RunHandle<String> run = old.trigger("x").block(T);
    StateWait.until("the run waits for its signal", T, () -> run.steps().collectList(),
        steps -> steps.stream().anyMatch(s -> s.stepId().equals("pgqrs.signal.go")));
    oldWorker.stop().block(T);
    AtomicInteger changedSteps = new AtomicInteger();
    Workflow<String, String> changed = register(define(name, String.class, String.class,
        (ctx, in) -> ctx.step("a", String.class, () -> Mono.just("a"))
            .flatMap(a -> ctx.step("z", String.class, () -> {
              changedSteps.incrementAndGet();
              return Mono.just("z");
            }))));
    start(changed, 1, Duration.ofSeconds(5));
    run.signal("go", "now").block(T);
    RunInfo paused = StateWait.until("the run is paused", T, run::info, info -> info.status() == RunStatus.PAUSED);
    assertThat(paused.error()).contains("nondeterministic replay").contains("pgqrs.signal.go").contains("'z'");
    assertThat(changedSteps.get()).isZero();
  }

  /**
   * One step name at two places in the body fails the run with the conflict, before the second
   * body runs: replay would otherwise hand one body's recorded value to the other. The same name
   * called again from one place (a loop) is a repetition, numbered {@code name#n}, and runs.
   */
  @Test
  void aStepNameUsedAtTwoPlacesFailsTheRunBeforeTheSecondBodyRuns() {
    AtomicInteger secondBodies = new AtomicInteger();
    Workflow<String, String> conflicting = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("same", String.class, () -> Mono.just("first"))
            .flatMap(first -> ctx.step("same", String.class, () -> {
              secondBodies.incrementAndGet();
              return Mono.just("second");
            }))));
    Workflow<String, String> repeated = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> Flux.range(1, 3)
            .concatMap(i -> ctx.step("same", String.class, () -> Mono.just("r" + i)))
            .collectList()
            .map(list -> String.join(",", list))));
    start(conflicting, 1, Duration.ofSeconds(5));
    start(repeated, 1, Duration.ofSeconds(5));

    RunHandle<String> run = conflicting.trigger("x").block(T);
    StepVerifier.create(run.result())
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(io.pgqrs.workflow.WorkflowFailedException.class)
            .hasMessageContaining("step name 'same' is used by different code in one run")
            .hasMessageContaining(WorkflowReplayContract.class.getName()))
        .verify(T);
    RunInfo failed = run.info().block(T);
    assertThat(failed.status()).isEqualTo(RunStatus.ERROR);
    assertThat(failed.attempts()).as("a conflict is not retried").isEqualTo(1);
    assertThat(failed.error()).contains("step name 'same'").contains("give each step its own name");
    assertThat(secondBodies.get()).isZero();
    assertThat(run.steps().collectList().block(T)).extracting(StepInfo::stepId).containsExactly("same");

    RunHandle<String> loop = repeated.trigger("x").block(T);
    assertThat(loop.result().block(T)).isEqualTo("r1,r2,r3");
    assertThat(loop.steps().collectList().block(T)).extracting(StepInfo::stepId)
        .containsExactly("same", "same#2", "same#3");
  }

  // ---------------------------------------------------------------- the local fast path

  @Test
  void aRunTriggeredNextToAnIdleWorkerIsTakenByTheTriggerAndFinishesWithoutAClaim() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "!"))));
    start(workflow, 4, Duration.ofSeconds(5));
    RunHandle<String> run = workflow.trigger("fast").block(T);
    assertThat(run.result().block(T)).isEqualTo("fast!");
    RunInfo info = run.info().block(T);
    assertThat(info.attempts()).isEqualTo(1);
    assertThat(info.status()).isEqualTo(RunStatus.SUCCESS);
  }

  /**
   * A caller that triggers the next run as soon as the previous result arrives finds the worker's
   * slot free again: the result is announced only once the finished run's delivery has given its
   * slot back, so none of these runs goes through the queue.
   */
  @Test
  void runsTriggeredOneAfterAnotherFromTheirResultsAllTakeTheFastPath() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "!"))));
    // No poll-driven claim competes with the triggers for the one slot.
    workers.add(workflow.worker().concurrency(1).pollInterval(Duration.ofMinutes(10))
        .shutdownTimeout(Duration.ofSeconds(5)).start());
    // The first runs may come before the worker has registered and made its first claim. Each next
    // trigger is made where the previous result arrived, as a reactive caller would.
    AtomicLong before = new AtomicLong();
    List<String> results = Flux.range(0, 3).concatMap(i -> workflow.trigger("w" + i).flatMap(RunHandle::result))
        .then(Mono.fromRunnable(() -> before.set(io.pgqrs.internal.EngineProbe.runsTakenByTrigger(store))))
        .thenMany(Flux.range(0, 30).concatMap(i -> workflow.trigger("r" + i).flatMap(RunHandle::result)))
        .collectList().block(T);
    assertThat(results).hasSize(30).first().isEqualTo("r0!");
    assertThat(io.pgqrs.internal.EngineProbe.runsTakenByTrigger(store) - before.get())
        .as("runs of 30 taken by their trigger on queue %s", workflow.definition().queue()).isEqualTo(30);
  }

  /**
   * A claim in flight does not take the room of a worker's free slots: runs triggered while the
   * worker's claim waits for its answer are taken by their triggers. Counting the claim against
   * the room sent them through the queue, whose wake-up began the next claim.
   */
  @Test
  void runsTriggeredWhileTheWorkersClaimIsInFlightStillTakeTheFastPath() {
    Sinks.Empty<Void> answer = Sinks.empty();
    try (io.pgqrs.internal.FaultyStore faulty = io.pgqrs.internal.FaultyStore.over(store)) {
      faulty.holdAnswers("claimRuns", answer.asMono());
      Workflow<String, String> workflow = faulty.store().runs().register(define(newWorkflowName(), String.class,
          String.class, (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "!")))).block(T);
      WorkflowWorker worker = workflow.worker().concurrency(4).pollInterval(Duration.ofMinutes(10))
          .shutdownTimeout(Duration.ofSeconds(5)).start();
      try {
        StateWait.until("the worker's first claim is in flight", T, () -> Mono.fromSupplier(() -> faulty.calls("claimRuns") > 0));
        long before = io.pgqrs.internal.EngineProbe.runsTakenByTrigger(faulty.store());
        List<String> results = Flux.range(0, 3).flatMap(i -> workflow.trigger("c" + i).flatMap(RunHandle::result))
            .collectList().block(T);
        assertThat(results).containsExactlyInAnyOrder("c0!", "c1!", "c2!");
        assertThat(io.pgqrs.internal.EngineProbe.runsTakenByTrigger(faulty.store()) - before)
            .as("runs taken by their trigger while the claim was in flight").isEqualTo(3);
      } finally {
        answer.tryEmitEmpty();
        worker.stop().block(T);
      }
    }
  }

  /**
   * Runs that find the worker busy go through the queue, and the worker's claim begins each of them
   * in the same round trip: every run is taken either by its trigger or in a claim, none by a
   * begin of its own.
   */
  @Test
  void runsThatWaitInTheQueueAreBegunInTheClaimThatTakesThem() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "!"))
            .flatMap(one -> ctx.step("two", String.class, () -> Mono.just(one + "?")))));
    workers.add(workflow.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start());
    long triggeredBefore = io.pgqrs.internal.EngineProbe.runsTakenByTrigger(store);
    long claimedBefore = io.pgqrs.internal.EngineProbe.runsBegunInClaim(store);
    List<RunHandle<String>> handles = Flux.range(0, 8).concatMap(i -> workflow.trigger("q" + i)).collectList().block(T);
    List<String> results = Flux.fromIterable(handles).concatMap(RunHandle::result).collectList().block(T);
    assertThat(results).containsExactly("q0!?", "q1!?", "q2!?", "q3!?", "q4!?", "q5!?", "q6!?", "q7!?");
    long byTrigger = io.pgqrs.internal.EngineProbe.runsTakenByTrigger(store) - triggeredBefore;
    long inClaim = io.pgqrs.internal.EngineProbe.runsBegunInClaim(store) - claimedBefore;
    assertThat(inClaim).as("runs begun in their claim (%d taken by their trigger)", byTrigger).isPositive();
    assertThat(byTrigger + inClaim).isEqualTo(8);
  }

  @Test
  void moreRunsThanTheWorkersSlotsAllFinish() {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    Workflow<Integer, Integer> workflow = register(define(newWorkflowName(), Integer.class, Integer.class,
        (ctx, in) -> ctx.step("square", Integer.class, () -> Mono.defer(() -> {
          mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          // Counted out when the body emits its value: the run may finish, and the worker take the
          // next run, inside that emission, before a doFinally here would run.
          return jittered(in * in).doOnNext(v -> inFlight.decrementAndGet());
        }))));
    start(workflow, 3, Duration.ofSeconds(5));
    List<RunHandle<Integer>> runs = Flux.range(0, 20).concatMap(workflow::trigger).collectList().block(T);
    List<Integer> results = Flux.fromIterable(runs).flatMap(RunHandle::result).collectSortedList().block(T);
    assertThat(results).isEqualTo(IntStream.range(0, 20).map(i -> i * i).sorted().boxed().toList());
    assertThat(mostInFlight.get()).isLessThanOrEqualTo(3);
  }

  @Test
  void resultOfARunFinishedBeforeTheCallIsRead() {
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in))));
    start(workflow, 1, Duration.ofSeconds(5));
    long runId = workflow.trigger("done").block(T).runId();
    StateWait.until("the run finished", T, () -> store.runs().get(runId), r -> r.status() == RunStatus.SUCCESS);
    assertThat(workflow.run(runId).result().block(T)).isEqualTo("done");
  }

  /**
   * A cancel from another process (here: straight through the driver, so no in-process signal)
   * reaches a step that never ends: the engine watches its executing runs.
   */
  @Test
  void aCancelFromElsewhereStopsAStepThatNeverEnds() {
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    AtomicInteger cancelled = new AtomicInteger();
    Workflow<String, String> workflow = register(define(newWorkflowName(), String.class, String.class,
        (ctx, in) -> ctx.step("forever", String.class, () -> Mono.<String>never()
            .doOnSubscribe(s -> started.countDown())
            .doOnCancel(cancelled::incrementAndGet))));
    start(workflow, 1, Duration.ofSeconds(5));
    RunHandle<String> run = workflow.trigger("x").block(T);
    StateWait.until("the step runs", T, () -> Mono.just(started.getCount()), n -> n == 0);
    RunInfo cancelling = driver().controlRun(io.pgqrs.internal.RunTransitions.cancel(run.runId(), "stop it")).block(T);
    assertThat(cancelling.status()).isEqualTo(RunStatus.CANCELLING);
    RunInfo ended = StateWait.until("the run is cancelled", T, run::info, r -> r.status() == RunStatus.CANCELLED);
    assertThat(ended.error()).isEqualTo("stop it");
    assertThat(cancelled.get()).isEqualTo(1);
  }
}
