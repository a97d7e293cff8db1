package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowFailedException;
import io.pgqrs.workflow.WorkflowFunction;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;

/**
 * An operator's repair of runs, on every backend: {@code runs().restart} starts a failed or
 * cancelled run again from where it stopped (its successful steps replay, their bodies do not run
 * again), {@code runs().fork} creates a new run that re-executes from a chosen step with exactly the
 * steps before it copied; both refuse runs that are not finished with a typed error.
 */
public abstract class RestartForkContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  private final List<WorkflowWorker> workers = new ArrayList<>();

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  private Workflow<String, String> register(WorkflowFunction<String, String> body) {
    String name = "rf" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return store.runs().register(Workflows.define(name.length() > 50 ? name.substring(0, 50) : name, String.class,
            String.class, body)
        .withStepOptions(StepOptions.noRetries())
        .withWorkflowRetries(StepOptions.noRetries())).block(T);
  }

  private WorkflowWorker start(Workflow<?, ?> workflow) {
    WorkflowWorker worker = workflow.worker().concurrency(2).shutdownTimeout(Duration.ofSeconds(5)).start();
    workers.add(worker);
    return worker;
  }

  /** Three steps; the second fails until {@code fixed} is set, as a bug does until it is repaired. */
  private static final class Counted {
    final AtomicInteger one = new AtomicInteger();
    final AtomicInteger two = new AtomicInteger();
    final AtomicInteger three = new AtomicInteger();
    final AtomicBoolean fixed = new AtomicBoolean();

    WorkflowFunction<String, String> body() {
      return (ctx, in) -> ctx.step("one", String.class, () -> Mono.fromCallable(() -> in + "1#" + one.incrementAndGet()))
          .flatMap(a -> ctx.step("two", String.class, () -> {
            two.incrementAndGet();
            return fixed.get() ? Mono.just(a + "-2") : Mono.error(new IllegalStateException("bug in step two"));
          }))
          .flatMap(b -> ctx.step("three", String.class, () -> Mono.fromCallable(() -> b + "-3#" + three.incrementAndGet())));
    }
  }

  private List<String> stepIds(long runId) {
    return store.runs().steps(runId).map(StepInfo::stepId).collectList().block(T);
  }

  @Test
  void aFailedRunRestartsFromItsFailedStepAndItsSuccessfulStepsDoNotRunAgain() {
    Counted counted = new Counted();
    Workflow<String, String> workflow = register(counted.body());
    start(workflow);
    long id = workflow.trigger("x").block(T).runId();
    assertThatThrownBy(() -> workflow.run(id).result().block(T)).isInstanceOf(WorkflowFailedException.class)
        .hasMessageContaining("bug in step two");
    assertThat(store.runs().get(id).block(T).status()).isEqualTo(RunStatus.ERROR);

    counted.fixed.set(true);
    RunInfo restarted = store.runs().restart(id).block(T);
    assertThat(restarted.id()).isEqualTo(id);
    assertThat(restarted.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(restarted.error()).isNull();
    assertThat(restarted.finishedAt()).isNull();

    assertThat(workflow.run(id).result().block(T)).isEqualTo("x1#1-2-3#1");
    assertThat(counted.one).as("the successful step replays").hasValue(1);
    assertThat(counted.two).as("the failed step runs again").hasValue(2);
    assertThat(counted.three).hasValue(1);
    assertThat(store.runs().steps(id).collectList().block(T)).extracting(StepInfo::status)
        .containsOnly(StepStatus.SUCCESS);
  }

  @Test
  void aCancelledRunRestartsAndWaitsAgainForWhatItWaitedFor() {
    AtomicInteger charged = new AtomicInteger();
    Workflow<String, String> workflow = register((ctx, in) -> ctx.step("charge", String.class,
            () -> Mono.fromCallable(() -> "paid" + charged.incrementAndGet()))
        .flatMap(paid -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)).map(go -> paid + "-" + go)));
    start(workflow);
    long id = workflow.trigger("x").block(T).runId();
    // Charged, waiting for the signal and suspended (no worker holds its message), by the store's records.
    store.runs().steps(id).filter(s -> s.status() == StepStatus.WAITING).next()
        .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
    store.queues().metrics(workflow.definition().queue()).filter(m -> m.leased() == 0)
        .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
    assertThat(store.runs().cancel(id, "customer left").block(T).status()).isEqualTo(RunStatus.CANCELLED);
    assertThatThrownBy(() -> workflow.run(id).result().block(T)).isInstanceOf(WorkflowFailedException.class);

    assertThat(store.runs().restart(id).block(T).status()).isEqualTo(RunStatus.QUEUED);
    // Taken again and waiting again: a running run is not restarted.
    store.runs().steps(id).filter(s -> s.status() == StepStatus.WAITING).next()
        .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
    assertThatThrownBy(() -> store.runs().restart(id).block(T)).isInstanceOfSatisfying(RunStateException.class,
        e -> assertThat(e.status()).isEqualTo(RunStatus.RUNNING));
    store.runs().signal(id, "go", "yes").block(T);
    assertThat(workflow.run(id).result().block(T)).isEqualTo("paid1-yes");
    assertThat(charged).hasValue(1);
  }

  @Test
  void restartRefusesRunsThatAreNotFailedOrCancelledAndUnknownRuns() {
    Counted counted = new Counted();
    counted.fixed.set(true);
    Workflow<String, String> workflow = register(counted.body());
    long queued = workflow.trigger("q").block(T).runId();
    assertThatThrownBy(() -> store.runs().restart(queued).block(T)).isInstanceOf(RunStateException.class)
        .hasMessageContaining("QUEUED");
    start(workflow);
    assertThat(workflow.run(queued).result().block(T)).isEqualTo("q1#1-2-3#1");
    assertThatThrownBy(() -> store.runs().restart(queued).block(T)).isInstanceOf(RunStateException.class)
        .hasMessageContaining("SUCCESS");
    assertThatThrownBy(() -> store.runs().restart(Long.MAX_VALUE).block(T)).isInstanceOf(RunNotFoundException.class);
    assertThat(counted.one).as("a refused restart runs nothing").hasValue(1);
  }

  @Test
  void ofTwoConcurrentRestartsExactlyOneWins() {
    Counted counted = new Counted();
    Workflow<String, String> workflow = register(counted.body());
    WorkflowWorker worker = start(workflow);
    long id = workflow.trigger("x").block(T).runId();
    assertThatThrownBy(() -> workflow.run(id).result().block(T)).isInstanceOf(WorkflowFailedException.class);
    worker.stop().block(T);
    List<Signal<RunInfo>> both = Flux.merge(store.runs().restart(id).materialize(), store.runs().restart(id).materialize())
        .filter(s -> !s.isOnComplete()).collectList().block(T);
    assertThat(both).hasSize(2);
    assertThat(both).filteredOn(Signal::isOnNext).hasSize(1);
    assertThat(both).filteredOn(Signal::isOnError).singleElement()
        .satisfies(s -> assertThat(s.getThrowable()).isInstanceOf(RunStateException.class));
  }

  @Test
  void aForkCopiesExactlyTheStepsBeforeItsStepAndReExecutesFromThere() {
    Counted counted = new Counted();
    counted.fixed.set(true);
    Workflow<String, String> workflow = register(counted.body());
    WorkflowWorker worker = start(workflow);
    long original = workflow.trigger("x").block(T).runId();
    assertThat(workflow.run(original).result().block(T)).isEqualTo("x1#1-2-3#1");
    worker.stop().block(T);
    List<StepInfo> originalSteps = store.runs().steps(original).collectList().block(T);

    RunInfo fork = store.runs().fork(original, "two").block(T);
    assertThat(fork.id()).isNotEqualTo(original);
    assertThat(fork.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(fork.workflow()).isEqualTo(workflow.definition().name());
    assertThat(fork.input()).isEqualTo(store.runs().get(original).block(T).input());
    assertThat(fork.forkedFrom()).as("the fork names its original").isEqualTo(original);
    assertThat(store.runs().get(fork.id()).block(T).forkedFrom()).isEqualTo(original);
    assertThat(store.runs().get(original).block(T).forkedFrom()).isNull();
    assertThat(stepIds(fork.id())).as("exactly the prefix").containsExactly("one");
    assertThat(store.runs().steps(fork.id()).blockFirst(T).output())
        .isEqualTo(originalSteps.stream().filter(s -> s.stepId().equals("one")).findFirst().orElseThrow().output());

    worker = start(workflow);
    assertThat(workflow.run(fork.id()).result().block(T)).isEqualTo("x1#1-2-3#2");
    assertThat(counted.one).as("the copied step replays").hasValue(1);
    assertThat(counted.two).hasValue(2);
    assertThat(counted.three).hasValue(2);
    RunInfo unchanged = store.runs().get(original).block(T);
    assertThat(unchanged.status()).isEqualTo(RunStatus.SUCCESS);
    assertThat(store.runs().steps(original).collectList().block(T)).isEqualTo(originalSteps);

    worker.stop().block(T);
    RunInfo fromTheStart = store.runs().fork(original, "one").block(T);
    assertThat(stepIds(fromTheStart.id())).as("nothing before the first step").isEmpty();
    start(workflow);
    assertThat(workflow.run(fromTheStart.id()).result().block(T)).isEqualTo("x1#2-2-3#3");
    // A fork of a fork names the run it was forked from, not the first one.
    assertThat(store.runs().fork(fork.id(), "one").block(T).forkedFrom()).isEqualTo(fork.id());
  }

  @Test
  void forkRefusesUnknownStepsUnfinishedRunsAndUnknownRuns() {
    Counted counted = new Counted();
    counted.fixed.set(true);
    Workflow<String, String> workflow = register(counted.body());
    long queued = workflow.trigger("q").block(T).runId();
    assertThatThrownBy(() -> store.runs().fork(queued, "one").block(T)).isInstanceOf(RunStateException.class)
        .hasMessageContaining("QUEUED");
    start(workflow);
    assertThat(workflow.run(queued).result().block(T)).isNotNull();
    assertThatThrownBy(() -> store.runs().fork(queued, "nope").block(T)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("fromStep").hasMessageContaining("nope");
    assertThatThrownBy(() -> store.runs().fork(queued, "").block(T)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> store.runs().fork(queued, null).block(T)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> store.runs().fork(queued, "bad\u0000").block(T)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> store.runs().fork(Long.MAX_VALUE, "one").block(T)).isInstanceOf(RunNotFoundException.class);
    assertThat(store.runs().list(io.pgqrs.workflow.RunQuery.all().withWorkflow(workflow.definition().name()))
        .collectList().block(T)).as("no refused fork created a run").hasSize(1);
  }
}
