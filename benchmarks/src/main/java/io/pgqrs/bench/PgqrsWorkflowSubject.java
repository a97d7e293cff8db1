package io.pgqrs.bench;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The pgqrs side of the {@code workflow} scenario: the three-step workflow defined with
 * {@link Workflows#define}, registered on a fresh store, executed by one worker whose concurrency
 * is the worker count. A run is {@code trigger} (run row and trigger message in one statement)
 * followed by its handle's {@code result()}, which wakes on the runs channel's {@code NOTIFY}; the
 * worker wakes on the queue's {@code NOTIFY}. Every step's output is recorded before the next one
 * starts, and the run's output commits with its message's archive.
 */
public final class PgqrsWorkflowSubject implements WorkflowSubject {

  private static final Duration T = Duration.ofSeconds(60);

  private @Nullable Store store;
  private @Nullable Workflow<String, String> workflow;
  private @Nullable WorkflowWorker worker;
  private int workers;

  /** Creates the subject; nothing is connected until {@link #setup(WorkflowTarget, int)}. */
  public PgqrsWorkflowSubject() {}

  static WorkflowDefinition<String, String> threeSteps() {
    return Workflows.define("three_steps", String.class, String.class, (ctx, input) ->
        ctx.step("step-1", String.class, () -> Mono.just(input + ":1"))
            .flatMap(a -> ctx.step("step-2", String.class, () -> Mono.just(a + ":2")))
            .flatMap(b -> ctx.step("step-3", String.class, () -> Mono.just(b + ":3"))));
  }

  @Override
  public String name() {
    return "pgqrs";
  }

  @Override
  public void setup(WorkflowTarget target, int workers) {
    this.workers = workers;
    Store s = Pgqrs.connect(target.pgqrsDsn()).block(T);
    Objects.requireNonNull(s).admin().install().block(T);
    Workflow<String, String> w = s.runs().register(threeSteps()).block(T);
    this.store = s;
    this.workflow = w;
    this.worker = Objects.requireNonNull(w).worker().concurrency(workers).start();
  }

  @Override
  public String configuration() {
    return "pgqrs: Workflows.define + store.runs().register, one worker of concurrency " + workers
        + ", trigger + result() (NOTIFY-woken), steps recorded one statement each";
  }

  @Override
  public Mono<String> run(String input) {
    Workflow<String, String> w = Objects.requireNonNull(workflow, "setup first");
    return w.trigger(input).flatMap(RunHandle::result);
  }

  @Override
  public void close() {
    WorkflowWorker w = worker;
    if (w != null) {
      w.stop().block(T);
    }
    Store s = store;
    if (s != null) {
      s.close().block(T);
    }
  }
}
