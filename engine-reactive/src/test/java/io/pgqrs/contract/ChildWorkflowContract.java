package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.internal.FaultyStore;
import io.pgqrs.internal.RunTransitions;
import io.pgqrs.workflow.ChildOptions;
import io.pgqrs.workflow.ChildWorkflowFailedException;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowFunction;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
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
 * Child workflows on every backend: {@code ctx.child} starts a run once (whatever replays of the
 * parent), the parent parks until the child finishes and gets its output or a typed failure,
 * {@code startChild} does not wait, a parent's cancel cancels its children and grandchildren unless
 * told to leave them, a fan-out gives its children deterministic identities, and runs list by parent.
 */
public abstract class ChildWorkflowContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  private final List<WorkflowWorker> workers = new ArrayList<>();

  @AfterEach
  void stopWorkers() {
    Flux.fromIterable(workers).flatMap(WorkflowWorker::stop).then().block(T);
    workers.clear();
  }

  private <I, O> Workflow<I, O> register(Class<I> in, Class<O> out, WorkflowFunction<I, O> body) {
    String name = "cw" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return store.runs().register(Workflows.define(name.length() > 50 ? name.substring(0, 50) : name, in, out, body)
        .withStepOptions(StepOptions.noRetries())
        .withWorkflowRetries(StepOptions.noRetries())).block(T);
  }

  private WorkflowWorker start(Workflow<?, ?> workflow) {
    WorkflowWorker worker = workflow.worker().concurrency(4).shutdownTimeout(Duration.ofSeconds(5)).start();
    workers.add(worker);
    return worker;
  }

  private List<RunInfo> children(long parent) {
    return store.runs().list(RunQuery.all().parent(parent)).collectList().block(T);
  }

  private void awaitStep(long runId, String stepId, StepStatus status) {
    store.runs().steps(runId).filter(s -> s.stepId().equals(stepId) && s.status() == status).next()
        .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
  }

  private RunInfo awaitStatus(long runId, RunStatus status) {
    return store.runs().get(runId).filter(r -> r.status() == status)
        .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
  }

  private Workflow<Integer, Integer> doubler(AtomicInteger executions) {
    return register(Integer.class, Integer.class, (ctx, in) -> ctx.step("double", Integer.class,
        () -> Mono.fromCallable(() -> {
          executions.incrementAndGet();
          return in * 2;
        })));
  }

  @Test
  void theChildsOutputIsReturnedToTheParentAndTheChildNamesItsParent() {
    AtomicInteger doubled = new AtomicInteger();
    Workflow<Integer, Integer> child = doubler(doubled);
    Workflow<Integer, String> parent = register(Integer.class, String.class,
        (ctx, in) -> ctx.child(child, in).map(out -> "got " + out));
    start(child);
    start(parent);
    long id = parent.trigger(21).block(T).runId();
    StepVerifier.create(parent.run(id).result()).expectNext("got 42").expectComplete().verify(T);

    List<RunInfo> kids = children(id);
    assertThat(kids).hasSize(1);
    assertThat(kids.get(0).parentRunId()).isEqualTo(id);
    assertThat(kids.get(0).idempotencyKey()).isEqualTo("child:" + id + ":1");
    assertThat(store.runs().get(id).block(T).parentRunId()).isNull();
    assertThat(doubled).hasValue(1);
    assertThat(store.runs().steps(id).map(StepInfo::stepId).collectList().block(T))
        .containsExactly("pgqrs.child." + child.definition().name(), "pgqrs.child-result");
  }

  @Test
  void aParentReplayedAfterItsWorkerStoppedStartsItsChildOnce() {
    AtomicInteger doubled = new AtomicInteger();
    AtomicInteger afterSteps = new AtomicInteger();
    Workflow<Integer, Integer> child = doubler(doubled);
    Workflow<Integer, Integer> parent = register(Integer.class, Integer.class, (ctx, in) -> ctx.child(child, in)
        .flatMap(out -> ctx.step("after", Integer.class, () -> Mono.fromCallable(() -> {
          afterSteps.incrementAndGet();
          return out + 1;
        }))));
    WorkflowWorker first = start(parent);
    long id = parent.trigger(5).block(T).runId();
    // Parked waiting for a child that no worker runs yet; then the parent's worker goes away.
    awaitStep(id, "pgqrs.child-result", StepStatus.WAITING);
    first.stop().block(T);
    workers.remove(first);

    start(child);
    start(parent);
    StepVerifier.create(parent.run(id).result()).expectNext(11).expectComplete().verify(T);
    assertThat(children(id)).hasSize(1);
    assertThat(doubled).hasValue(1);
    assertThat(afterSteps).hasValue(1);
  }

  @Test
  void aChildCreatedBeforeItsRecordIsFoundAgainByTheReplay() {
    AtomicInteger doubled = new AtomicInteger();
    Workflow<Integer, Integer> child = doubler(doubled);
    AtomicReference<Long> parentId = new AtomicReference<>();
    Workflow<Integer, Integer> parent = register(Integer.class, Integer.class, (ctx, in) -> ctx.child(child, in));
    long id = parent.trigger(4).block(T).runId();
    parentId.set(id);
    // The state a crash between creating the child and recording it leaves: the child exists, keyed
    // by the parent and the call's position, and the parent has no record of it.
    long orphan = child.trigger(4, "child:" + id + ":1").block(T).runId();
    start(child);
    start(parent);
    StepVerifier.create(parent.run(id).result()).expectNext(8).expectComplete().verify(T);
    List<RunInfo> kids = children(id);
    assertThat(kids).extracting(RunInfo::id).containsExactly(orphan);
    assertThat(doubled).hasValue(1);
  }

  @Test
  void aFailedChildArrivesAsATypedErrorTheParentHandles() {
    Workflow<Integer, Integer> child = register(Integer.class, Integer.class, (ctx, in) -> ctx.step("boom",
        Integer.class, () -> Mono.error(new IllegalStateException("child broke"))));
    Workflow<Integer, String> parent = register(Integer.class, String.class, (ctx, in) -> ctx.child(child, in)
        .map(out -> "unexpected " + out)
        .onErrorResume(ChildWorkflowFailedException.class,
            e -> Mono.just(e.status() + " " + (e.runId() > 0) + " " + e.error().contains("child broke"))));
    start(child);
    start(parent);
    long id = parent.trigger(1).block(T).runId();
    StepVerifier.create(parent.run(id).result()).expectNext("ERROR true true").expectComplete().verify(T);
    // The outcome is recorded: the parent's history holds it, so a replay fails the same way.
    assertThat(store.runs().steps(id).filter(s -> s.stepId().equals("pgqrs.child-result")).next().block(T).status())
        .isEqualTo(StepStatus.SUCCESS);
  }

  @Test
  void aCancelledChildArrivesAsATypedError() {
    Workflow<Integer, String> child = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("never", String.class, Duration.ofHours(1)));
    Workflow<Integer, String> parent = register(Integer.class, String.class, (ctx, in) -> ctx.child(child, in)
        .onErrorResume(ChildWorkflowFailedException.class, e -> Mono.just(e.status() + ":" + e.error())));
    start(child);
    start(parent);
    long id = parent.trigger(1).block(T).runId();
    awaitStep(id, "pgqrs.child-result", StepStatus.WAITING);
    long kid = children(id).get(0).id();
    awaitStep(kid, "pgqrs.signal.never", StepStatus.WAITING);
    store.runs().cancel(kid, "not needed").block(T);
    StepVerifier.create(parent.run(id).result()).expectNext("CANCELLED:not needed").expectComplete().verify(T);
  }

  @Test
  void aDetachedChildIsStartedAndTheParentDoesNotWait() {
    Workflow<Integer, String> child = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)));
    Workflow<Integer, Long> parent = register(Integer.class, Long.class,
        (ctx, in) -> ctx.startChild(child, in, ChildOptions.defaults()));
    start(child);
    start(parent);
    long id = parent.trigger(1).block(T).runId();
    Long kid = parent.run(id).result().block(T);
    assertThat(children(id)).extracting(RunInfo::id).containsExactly(kid);
    store.runs().signal(kid, "go", "went").block(T);
    StepVerifier.create(child.run(kid).result()).expectNext("went").expectComplete().verify(T);
  }

  @Test
  void cancellingAParentCancelsItsChildrenAndGrandchildrenUnlessToldToLeaveThem() {
    Workflow<Integer, String> grandchild = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("never", String.class, Duration.ofHours(1)));
    Workflow<Integer, String> child = register(Integer.class, String.class, (ctx, in) -> ctx.child(grandchild, in));
    Workflow<Integer, String> left = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)));
    Workflow<Integer, String> parent = register(Integer.class, String.class,
        (ctx, in) -> ctx.startChild(left, in, ChildOptions.defaults().leaveOnParentCancel())
            .then(ctx.child(child, in)));
    start(grandchild);
    start(child);
    start(left);
    start(parent);
    long id = parent.trigger(1).block(T).runId();
    awaitStep(id, "pgqrs.child-result", StepStatus.WAITING);
    long kid = children(id).stream().filter(r -> r.workflow().equals(child.definition().name())).findFirst()
        .orElseThrow().id();
    long leftKid = children(id).stream().filter(r -> r.workflow().equals(left.definition().name())).findFirst()
        .orElseThrow().id();
    awaitStep(kid, "pgqrs.child-result", StepStatus.WAITING);
    long grandkid = children(kid).get(0).id();
    awaitStep(grandkid, "pgqrs.signal.never", StepStatus.WAITING);

    store.runs().cancel(id, "stop all").block(T);
    awaitStatus(id, RunStatus.CANCELLED);
    awaitStatus(kid, RunStatus.CANCELLED);
    awaitStatus(grandkid, RunStatus.CANCELLED);
    assertThat(store.runs().get(leftKid).block(T).status()).isNotIn(RunStatus.CANCELLED, RunStatus.CANCELLING);
    store.runs().signal(leftKid, "go", "still here").block(T);
    StepVerifier.create(left.run(leftKid).result()).expectNext("still here").expectComplete().verify(T);
  }

  @Test
  void aFanOutOfAHundredChildrenHasDeterministicIdentitiesAndAllFinish() {
    AtomicInteger doubled = new AtomicInteger();
    Workflow<Integer, Integer> child = doubler(doubled);
    Workflow<Integer, Integer> parent = register(Integer.class, Integer.class, (ctx, in) -> Flux.range(0, in)
        .flatMap(i -> ctx.child(child, i))
        .reduce(0, Integer::sum));
    start(child);
    start(parent);
    long id = parent.trigger(100).block(T).runId();
    StepVerifier.create(parent.run(id).result()).expectNext(2 * (99 * 100 / 2)).expectComplete()
        .verify(Duration.ofMinutes(2));
    List<RunInfo> kids = store.runs().list(RunQuery.all().parent(id).withLimit(1000)).collectList().block(T);
    assertThat(kids).hasSize(100).allSatisfy(k -> assertThat(k.status()).isEqualTo(RunStatus.SUCCESS));
    // Each child's key is the position of the call that started it: 1 to 100, one each.
    assertThat(kids).extracting(RunInfo::idempotencyKey).doesNotHaveDuplicates()
        .allSatisfy(k -> assertThat(k).startsWith("child:" + id + ":"));
    assertThat(kids).extracting(k -> k.input().asInt()).containsExactlyInAnyOrderElementsOf(
        java.util.stream.IntStream.range(0, 100).boxed().toList());
    assertThat(doubled).hasValue(100);
    List<String> stepIds = store.runs().steps(id).map(StepInfo::stepId).collectList().block(T);
    assertThat(stepIds).hasSize(200).doesNotHaveDuplicates();
  }

  @Test
  void runsListByParent() {
    AtomicInteger doubled = new AtomicInteger();
    Workflow<Integer, Integer> child = doubler(doubled);
    Workflow<Integer, Integer> parent = register(Integer.class, Integer.class,
        (ctx, in) -> ctx.child(child, in).flatMap(a -> ctx.child(child, a)));
    start(child);
    start(parent);
    long one = parent.trigger(1).block(T).runId();
    long two = parent.trigger(2).block(T).runId();
    StepVerifier.create(parent.run(one).result()).expectNext(4).expectComplete().verify(T);
    StepVerifier.create(parent.run(two).result()).expectNext(8).expectComplete().verify(T);
    assertThat(children(one)).hasSize(2).allSatisfy(k -> assertThat(k.parentRunId()).isEqualTo(one));
    assertThat(children(two)).extracting(k -> k.input().asInt()).containsExactlyInAnyOrder(2, 4);
    assertThat(store.runs().list(RunQuery.all().parent(one).withWorkflow(parent.definition().name()))
        .collectList().block(T)).isEmpty();
  }

  @Test
  void aChildNamesItsParentFromTheStatementThatCreatesIt() {
    Sinks.Empty<Void> answer = Sinks.empty();
    try (FaultyStore faulty = FaultyStore.over(store)) {
      // The parent runs in the faulty engine, so its child's trigger is the only triggerRun there.
      AtomicReference<Workflow<Integer, String>> child = new AtomicReference<>();
      String name = "cwlink" + WORKFLOWS.incrementAndGet();
      child.set(faulty.store().runs().register(Workflows.define(name + "c", Integer.class, String.class,
          (ctx, in) -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)))).block(T));
      var definition = Workflows.define(name + "p", Integer.class, Long.class,
              (ctx, in) -> ctx.startChild(child.get(), in, ChildOptions.defaults()))
          .withStepOptions(StepOptions.noRetries());
      Workflow<Integer, Long> parent = faulty.store().runs().register(definition).block(T);
      // Triggered in the engine without a worker: it goes to the queue, and the faulty engine takes it.
      long id = store.runs().register(definition).block(T).trigger(1).block(T).runId();
      faulty.holdAnswers("triggerRun", answer.asMono());
      WorkflowWorker worker = parent.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start();
      try {
        // The child's trigger has committed and its answer has not come back: it names its parent already.
        RunInfo kid = store.runs().list(RunQuery.all().withWorkflow(name + "c")).next()
            .repeatWhenEmpty(polls -> polls.delayElements(Duration.ofMillis(20))).block(T);
        assertThat(kid.parentRunId()).isEqualTo(id);
        answer.tryEmitEmpty();
        StepVerifier.create(parent.run(id).result()).expectNext(kid.id()).expectComplete().verify(T);
        assertThat(faulty.calls("linkChildRun")).isZero();
      } finally {
        answer.tryEmitEmpty();
        worker.stop().block(T);
      }
    }
  }

  @Test
  void theRunReaperCancelsTheChildrenAParentsCancelDidNotReach() {
    Workflow<Integer, String> grandchild = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("never", String.class, Duration.ofHours(1)));
    Workflow<Integer, String> child = register(Integer.class, String.class, (ctx, in) -> ctx.child(grandchild, in));
    Workflow<Integer, String> left = register(Integer.class, String.class,
        (ctx, in) -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)));
    Workflow<Integer, String> parent = register(Integer.class, String.class,
        (ctx, in) -> ctx.startChild(left, in, ChildOptions.defaults().leaveOnParentCancel())
            .then(ctx.child(child, in)));
    start(grandchild);
    start(child);
    start(left);
    start(parent);
    long id = parent.trigger(1).block(T).runId();
    awaitStep(id, "pgqrs.child-result", StepStatus.WAITING);
    long kid = children(id).stream().filter(r -> r.workflow().equals(child.definition().name())).findFirst()
        .orElseThrow().id();
    long leftKid = children(id).stream().filter(r -> r.workflow().equals(left.definition().name())).findFirst()
        .orElseThrow().id();
    awaitStep(kid, "pgqrs.child-result", StepStatus.WAITING);
    long grandkid = children(kid).get(0).id();
    awaitStep(grandkid, "pgqrs.signal.never", StepStatus.WAITING);

    // What an engine that stopped between the parent's cancel and its children's leaves: the
    // parent cancelled (the store's cancel, without the engine's cascade), its children not.
    driver().controlRun(RunTransitions.cancel(id, "stopped halfway")).block(T);
    assertThat(store.runs().get(id).block(T).status()).isIn(RunStatus.CANCELLED, RunStatus.CANCELLING);
    assertThat(store.runs().get(kid).block(T).status()).isNotIn(RunStatus.CANCELLED, RunStatus.CANCELLING);

    StepVerifier.create(store.maintenance().runReaper().runOnce())
        .assertNext(report -> assertThat(report.childrenCancelled()).isEqualTo(2))
        .expectComplete()
        .verify(T);
    assertThat(awaitStatus(kid, RunStatus.CANCELLED).error()).isEqualTo("parent run " + id + " was cancelled");
    assertThat(awaitStatus(grandkid, RunStatus.CANCELLED).error()).isEqualTo("parent run " + kid + " was cancelled");
    assertThat(store.runs().get(leftKid).block(T).status()).isNotIn(RunStatus.CANCELLED, RunStatus.CANCELLING);
    // Nothing is left to repair: the next turn cancels nothing.
    StepVerifier.create(store.maintenance().runReaper().runOnce())
        .assertNext(report -> assertThat(report.childrenCancelled()).isZero())
        .expectComplete()
        .verify(T);
  }
}
