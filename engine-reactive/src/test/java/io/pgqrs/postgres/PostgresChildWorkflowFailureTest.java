package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.testing.ChildJvm;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.ChildOptions;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.Workflow;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A parent and its child in flight in a child JVM killed with SIGKILL (the parent parked waiting,
 * the child inside its step): a fresh engine finishes both, with exactly one child run and each
 * step body run once after its record.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresChildWorkflowFailureTest {

  private static final Duration T = Duration.ofSeconds(60);
  private static final Duration LEASE = Duration.ofSeconds(2);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresChildWorkflowFailureTest(PostgresDatabase.Target db) {
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

  /** The child workflow: one step that, in the killed JVM, prints a line and never ends. */
  private static Workflow<String, String> child(Store on, boolean stall, Map<String, AtomicInteger> runs) {
    return on.runs().register(Workflows.define("kill_child", String.class, String.class, (ctx, in) ->
            ctx.step("work", String.class, () -> {
              runs.computeIfAbsent("work", k -> new AtomicInteger()).incrementAndGet();
              if (stall) {
                System.out.println("CHILD");
                return Mono.never();
              }
              return Mono.just(in + "-worked");
            }))
        .withStepLease(LEASE)).block(T);
  }

  /** The parent: a child, then a step of its own; it looks at its child every second when not woken. */
  private static Workflow<String, String> parent(Store on, Workflow<String, String> child,
      Map<String, AtomicInteger> runs) {
    return on.runs().register(Workflows.define("kill_parent", String.class, String.class, (ctx, in) ->
            ctx.child(child, in, ChildOptions.defaults().withCheckEvery(Duration.ofSeconds(1)))
                .flatMap(out -> ctx.step("after", String.class, () -> {
                  runs.computeIfAbsent("after", k -> new AtomicInteger()).incrementAndGet();
                  return Mono.just(out + "-after");
                })))
        .withStepLease(LEASE)).block(T);
  }

  /**
   * The killed process: workers of both workflows with short leases, until it is killed.
   *
   * @param args the DSN
   */
  public static void main(String[] args) {
    Store there = Pgqrs.connect(args[0]).block(T);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Workflow<String, String> child = child(there, true, runs);
    Workflow<String, String> parent = parent(there, child, runs);
    child.worker().lease(LEASE).concurrency(1).start();
    parent.worker().lease(LEASE).concurrency(1).start();
    Mono.never().block();
  }

  @Test
  void aFreshEngineFinishesAParentAndItsChildAfterTheirProcessWasKilled() throws IOException, InterruptedException {
    Map<String, AtomicInteger> here = new ConcurrentHashMap<>();
    Workflow<String, String> child = child(store, false, here);
    Workflow<String, String> parent = parent(store, child, here);
    RunHandle<String> run = parent.trigger("in").block(T);

    assertThat(ChildJvm.killAfter(PostgresChildWorkflowFailureTest.class, "CHILD"::equals, 1, db.dsn())).isEqualTo(1);
    // One child exists, and it names its parent: the trigger that created it linked it.
    assertThat(store.runs().list(RunQuery.all().withWorkflow("kill_child")).collectList().block(T)).singleElement()
        .satisfies(kid -> assertThat(kid.parentRunId()).isEqualTo(run.runId()));

    WorkflowWorker childWorker = child.worker().lease(LEASE).pollInterval(Duration.ofMillis(200)).start();
    WorkflowWorker parentWorker = parent.worker().lease(LEASE).pollInterval(Duration.ofMillis(200)).start();
    try {
      StepVerifier.create(run.result()).expectNext("in-worked-after").expectComplete().verify(T);
    } finally {
      childWorker.stop().block(T);
      parentWorker.stop().block(T);
    }
    List<RunInfo> children = store.runs().list(RunQuery.all().parent(run.runId())).collectList().block(T);
    assertThat(children).hasSize(1);
    // The child's step ran here once (it never finished in the killed process); the parent's own
    // step ran once, here.
    assertThat(here.get("work")).hasValue(1);
    assertThat(here.get("after")).hasValue(1);
    assertThat(store.runs().steps(run.runId()).map(StepInfo::stepId).collectList().block(T))
        .containsExactly("pgqrs.child.kill_child", "pgqrs.child-result", "after");
    assertThat(store.runs().steps(children.get(0).id()).collectList().block(T)).singleElement()
        .satisfies(s -> assertThat(s.attempts()).isEqualTo(1));
  }
}
