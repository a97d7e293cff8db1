package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.testing.ChildJvm;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A workflow worker in a child JVM is killed with SIGKILL after step one, inside step two, or during
 * a durable sleep between them; another worker finishes the run. Step one's body runs once, step two's at most twice, the output
 * is right, and the trigger message is archived exactly once.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresWorkflowFailureTest {

  private static final Duration T = Duration.ofSeconds(60);
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Duration NAP = Duration.ofSeconds(3);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresWorkflowFailureTest(PostgresDatabase.Target db) {
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
   * The same two-step workflow in both processes. In the child, {@code mode} stalls it after step
   * one ("between") or inside step two ("inside"), printing a line when it gets there.
   */
  static WorkflowDefinition<String, String> definition(String name, String mode, Map<String, AtomicInteger> runs) {
    return Workflows.define(name, String.class, String.class, (ctx, in) ->
            ctx.step("one", String.class, () -> {
                  runs.computeIfAbsent("one", k -> new AtomicInteger()).incrementAndGet();
                  return Mono.just(in + "-1");
                })
                .flatMap(one -> mode.equals("between") ? Mono.<String>never() : Mono.just(one))
                .flatMap(one -> mode.startsWith("sleep") ? ctx.sleep(NAP).thenReturn(one) : Mono.just(one))
                .flatMap(one -> ctx.step("two", String.class, () -> {
                  runs.computeIfAbsent("two", k -> new AtomicInteger()).incrementAndGet();
                  if (mode.equals("inside")) {
                    System.out.println("INSIDE");
                    return Mono.never();
                  }
                  return Mono.just(one + "-2");
                })))
        .withStepLease(LEASE);
  }

  /**
   * The child process: a worker of the workflow with short leases, until it is killed.
   *
   * @param args the DSN, the workflow name and the mode
   */
  public static void main(String[] args) {
    Store child = Pgqrs.connect(args[0]).block(T);
    if (args[2].equals("race")) {
      Workflow<String, String> racing = child.runs().register(racer(args[1], (in, step) ->
          System.out.println("RAN " + in + " " + step))).block(T);
      racing.worker().lease(LEASE).concurrency(1).start();
      Mono.never().block();
    }
    Workflow<String, String> workflow = child.runs().register(definition(args[1], args[2], new ConcurrentHashMap<>()))
        .block(T);
    workflow.worker().lease(LEASE).concurrency(1).start();
    if (args[2].equals("sleep")) {
      // Tell the parent once the sleep is recorded and the run parked on it.
      awaitStep(child, args[1], "pgqrs.sleep", StepStatus.WAITING);
      System.out.println("SLEEPING");
    } else if (args[2].equals("between")) {
      // Tell the parent once step one is recorded, while the body stalls before step two. (The
      // record of a step is written just after its result reaches the body, or with the run's
      // finish; the kill is meant to land after it.)
      awaitStep(child, args[1], "one", StepStatus.SUCCESS);
      System.out.println("BETWEEN");
    }
    Mono.never().block();
  }

  /** Waits until a run of the workflow has the step recorded with the status. */
  private static void awaitStep(Store child, String workflow, String stepId, StepStatus status) {
    Flux.interval(Duration.ofMillis(20))
        .onBackpressureDrop()
        .concatMap(t -> child.runs().list(io.pgqrs.workflow.RunQuery.all().withWorkflow(workflow))
            .concatMap(r -> child.runs().steps(r.id()))
            .any(step -> step.stepId().equals(stepId) && step.status() == status))
        .filter(Boolean::booleanValue)
        .next()
        .block(T);
  }

  @ParameterizedTest
  @ValueSource(strings = {"between", "inside", "sleep"})
  void anotherWorkerFinishesTheRunOfAKilledWorker(String mode) throws IOException, InterruptedException {
    String name = "crash_" + mode;
    Map<String, AtomicInteger> here = new ConcurrentHashMap<>();
    Workflow<String, String> workflow = store.runs()
        .register(definition(name, mode.equals("sleep") ? "sleep-here" : "normal", here)).block(T);
    RunHandle<String> run = workflow.trigger("in").block(T);

    String expected = switch (mode) {
      case "between" -> "BETWEEN";
      case "inside" -> "INSIDE";
      default -> "SLEEPING";
    };
    boolean reached = ChildJvm.killAfter(PostgresWorkflowFailureTest.class, expected::equals, 1, db.dsn(), name, mode) == 1;
    assertThat(reached).isTrue();
    List<StepInfo> before = run.steps().collectList().block(T);
    assertThat(before).filteredOn(s -> s.stepId().equals("one")).singleElement()
        .satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.SUCCESS));

    WorkflowWorker worker = workflow.worker().pollInterval(Duration.ofMillis(200)).start();
    try {
      StepVerifier.create(run.result()).expectNext("in-1-2").expectComplete().verify(T);
    } finally {
      worker.stop().block(T);
    }
    // Step one ran in the child only; step two ran here once (and, "inside", once in the child, unrecorded).
    assertThat(here.get("one")).isNull();
    assertThat(here.get("two").get()).isEqualTo(1);
    List<StepInfo> steps = run.steps().collectList().block(T);
    assertThat(steps).extracting(StepInfo::stepId).containsExactlyElementsOf(mode.equals("sleep")
        ? List.of("one", "pgqrs.sleep", "two") : List.of("one", "two"));
    assertThat(steps.get(0).attempts()).isEqualTo(1);
    // Attempts count executions whose outcome was recorded: the child's execution of step two,
    // killed inside it, never was (the run's lease fenced it out).
    assertThat(steps.get(steps.size() - 1).attempts()).isEqualTo(1);
    var metrics = store.queues().metrics(name).block(T);
    assertThat(metrics.archived()).isEqualTo(1);
    assertThat(metrics.live()).isZero();
    assertThat(Flux.from(store.runs().get(run.runId())).blockFirst(T).attempts()).isGreaterThanOrEqualTo(2);
  }

  /** Three steps, each reporting its execution, each taking a little while. */
  static WorkflowDefinition<String, String> racer(String name, java.util.function.BiConsumer<String, String> ran) {
    return Workflows.define(name, String.class, String.class, (ctx, in) ->
            Flux.just("a", "b", "c")
                .concatMap(step -> ctx.step(step, String.class, () -> Mono.fromRunnable(() -> ran.accept(in, step))
                    .then(Mono.delay(Duration.ofMillis(15)))
                    .thenReturn(in + step)))
                .collectList()
                .map(parts -> String.join("", parts)))
        .withStepLease(LEASE);
  }

  /**
   * Two engines race for the same runs: one here, one in a child JVM killed with SIGKILL after it
   * has executed a few steps. Every run ends right, every step body ran once except the one in
   * flight at the kill, and every trigger message is archived once.
   */
  @org.junit.jupiter.api.Test
  void twoEnginesRaceForTheSameRunsAndAKilledOneLosesNothing() throws IOException, InterruptedException {
    String name = "race_two_engines";
    Map<String, AtomicInteger> ranHere = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> ranThere = new ConcurrentHashMap<>();
    Workflow<String, String> workflow = store.runs().register(racer(name, (in, step) ->
        ranHere.computeIfAbsent(in + " " + step, k -> new AtomicInteger()).incrementAndGet())).block(T);
    // Triggered before any worker of this engine starts, so every run goes through the queue.
    List<RunHandle<String>> runs = Flux.range(0, 20).concatMap(i -> workflow.trigger("r" + i + "-")).collectList()
        .block(T);
    java.util.concurrent.atomic.AtomicReference<WorkflowWorker> worker = new java.util.concurrent.atomic.AtomicReference<>();
    try {
      int seen = ChildJvm.killAfter(PostgresWorkflowFailureTest.class, line -> {
        if (!line.startsWith("RAN ")) {
          return false;
        }
        // Once the child is inside its second run, this engine joins the race. Not sooner: a
        // worker claims ahead of its concurrency, and one started at the child's first step could
        // take every run the child has not, so the child would never print the six lines awaited.
        // Steps two and three of the child's second run come under its own lease.
        if (ranThere.size() == 3) {
          worker.compareAndSet(null, workflow.worker().lease(LEASE).concurrency(2).pollInterval(Duration.ofMillis(100))
              .start());
        }
        ranThere.computeIfAbsent(line.substring(4), k -> new AtomicInteger()).incrementAndGet();
        return true;
      }, 6, db.dsn(), name, "race");
      assertThat(seen).isEqualTo(6);
      for (int i = 0; i < runs.size(); i++) {
        StepVerifier.create(runs.get(i).result()).expectNext("r" + i + "-a" + "r" + i + "-b" + "r" + i + "-c")
            .expectComplete().verify(T);
      }
    } finally {
      if (worker.get() != null) {
        worker.get().stop().block(T);
      }
    }
    long twice = 0;
    for (int i = 0; i < runs.size(); i++) {
      for (String step : List.of("a", "b", "c")) {
        String key = "r" + i + "- " + step;
        int total = ranHere.getOrDefault(key, new AtomicInteger()).get() + ranThere.getOrDefault(key, new AtomicInteger()).get();
        assertThat(total).as("executions of %s", key).isBetween(1, 2);
        if (total == 2) {
          twice++;
        }
      }
    }
    assertThat(twice).as("steps executed twice: only the child's step in flight at the kill").isLessThanOrEqualTo(1);
    var metrics = store.queues().metrics(name).block(T);
    assertThat(metrics.archived()).isEqualTo(runs.size());
    assertThat(metrics.live()).isZero();
  }
}
