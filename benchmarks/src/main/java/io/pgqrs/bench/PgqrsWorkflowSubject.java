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
 * The pgqrs side of the workflow scenarios: the workflow defined with {@link Workflows#define},
 * registered on a fresh store, executed by one worker whose concurrency is the worker count. A run
 * is {@code trigger} followed by its handle's {@code result()}, which wakes on the runs channel's
 * {@code NOTIFY}. Every step's output is recorded before the next one starts, and the run's output
 * commits with its message's archive.
 *
 * <p>Two modes:
 *
 * <ul>
 *   <li>{@code local} (subject {@code pgqrs}): one store triggers and executes, so a run triggered
 *       where a worker for it has room may run there at once (the engine's local fast path);
 *   <li>{@code cross} (subject {@code pgqrs-cross}): one store, with no worker, triggers and awaits
 *       results; a second store in the same JVM, on the same schema with its own pool and its own
 *       LISTEN connection, runs the worker. Every run goes through the queue: the executing
 *       engine learns of it from the queue's {@code NOTIFY}, as an engine in another process would.
 * </ul>
 */
public final class PgqrsWorkflowSubject implements WorkflowSubject {

  private static final Duration T = Duration.ofSeconds(60);

  private final boolean cross;
  private final boolean metered;
  private final boolean traced;
  private boolean child;
  private @Nullable WorkflowWorker childWorker;
  private @Nullable AutoCloseable meters;
  private @Nullable Store executor;
  private @Nullable Store trigger;
  private @Nullable Workflow<String, String> workflow;
  private @Nullable WorkflowWorker worker;
  private int workers;
  private int steps;
  private int poolSize;
  private int triggerPoolSize;
  private boolean postgres;

  /**
   * Creates the subject; nothing is connected until {@link #setup(WorkflowTarget, int, int)}.
   *
   * @param cross true for the cross-engine mode (trigger in one store, execute in another)
   * @param metered true to bind the executing store's Micrometer meters to a registry (local mode)
   */
  public PgqrsWorkflowSubject(boolean cross, boolean metered) {
    this(cross, metered, false);
  }

  /**
   * Creates the subject; nothing is connected until {@link #setup(WorkflowTarget, int, int)}.
   *
   * @param cross true for the cross-engine mode (trigger in one store, execute in another)
   * @param metered true to bind the executing store's Micrometer meters to a registry (local mode)
   * @param traced true to observe the store with a Brave tracer (local mode; see {@code Stores.trace})
   */
  public PgqrsWorkflowSubject(boolean cross, boolean metered, boolean traced) {
    this.cross = cross;
    this.metered = metered;
    this.traced = traced;
  }

  /**
   * The child mode (subject {@code pgqrs-child}): each run is a parent whose whole body is {@code
   * ctx.child} of the N-step workflow, both executed in one store by workers of the same
   * concurrency. Its statements per run less the local mode's are the cost of one child call.
   *
   * @return the subject
   */
  static PgqrsWorkflowSubject child() {
    PgqrsWorkflowSubject subject = new PgqrsWorkflowSubject(false, false, false);
    subject.child = true;
    return subject;
  }

  /**
   * The workflow of {@code steps} steps, as {@link WorkflowSubject} defines it.
   *
   * @param steps the number of steps, at least 1
   * @return the definition, named {@code steps_N}
   */
  static WorkflowDefinition<String, String> steps(int steps) {
    return Workflows.define("steps_" + steps, String.class, String.class, (ctx, input) -> {
      Mono<String> result = ctx.step("step-1", String.class, () -> Mono.just(input + ":1"));
      for (int i = 2; i <= steps; i++) {
        String name = "step-" + i;
        String suffix = ":" + i;
        result = result.flatMap(previous -> ctx.step(name, String.class, () -> Mono.just(previous + suffix)));
      }
      return result;
    });
  }

  @Override
  public String name() {
    return child ? "pgqrs-child" : cross ? "pgqrs-cross" : metered ? "pgqrs-metered" : traced ? "pgqrs-traced" : "pgqrs";
  }

  @Override
  public void setup(WorkflowTarget target, int workers, int steps) {
    this.workers = workers;
    this.steps = steps;
    this.poolSize = target.poolSize();
    this.triggerPoolSize = target.triggerPoolSize();
    this.postgres = target.jdbcUrl() != null;
    WorkflowDefinition<String, String> definition = steps(steps);
    Store e = Objects.requireNonNull(Pgqrs.connect(target.pgqrsDsn()).block(T));
    this.executor = e;
    e.admin().install().block(T);
    if (metered) {
      meters = Stores.meter(e);
    } else if (traced) {
      meters = Stores.trace(e);
    }
    Workflow<String, String> executing = Objects.requireNonNull(e.runs().register(definition).block(T));
    if (child) {
      Workflow<String, String> stepsWorkflow = executing;
      executing = Objects.requireNonNull(e.runs().register(Workflows.define("parent_of_" + definition.name(),
          String.class, String.class, (ctx, input) -> ctx.child(stepsWorkflow, input))).block(T));
      this.childWorker = stepsWorkflow.worker().concurrency(workers).start();
    }
    if (cross) {
      Store t = Objects.requireNonNull(Pgqrs.connect(target.pgqrsTriggerDsn()).block(T));
      this.trigger = t;
      this.workflow = t.runs().register(definition).block(T);
    } else {
      this.workflow = executing;
    }
    this.worker = executing.worker().concurrency(workers).start();
  }

  @Override
  public String configuration() {
    String common = "Workflows.define + store.runs().register, " + steps + " step(s), one worker of concurrency "
        + workers + ", trigger + result() ("
        + (postgres ? "NOTIFY-woken" : cross ? "woken by polling across the two stores" : "woken by in-process signals")
        + ")";
    return cross
        ? "pgqrs cross-engine: " + common + "; triggered in a store with no worker" + pool(triggerPoolSize)
            + ", executed by a second store in the same JVM" + pool(poolSize) + ", so every run goes through the queue"
        : child ? "pgqrs child: a parent whose body is ctx.child of the workflow below, both in one store; "
            + common + pool(poolSize)
        : "pgqrs" + (metered ? " with its Micrometer meters bound (PgqrsMetrics, SimpleMeterRegistry)"
            : traced ? " traced (PgqrsObservations, Micrometer Tracing over Brave, spans dropped at their end)" : "")
            + ": " + common + ", triggered and executed in one store" + pool(poolSize);
  }

  private String pool(int size) {
    return postgres ? " (pool " + size + ")" : "";
  }

  @Override
  public Mono<String> run(String input) {
    Workflow<String, String> w = Objects.requireNonNull(workflow, "setup first");
    return w.trigger(input).flatMap(RunHandle::result);
  }

  @Override
  public void close() {
    WorkflowWorker w = worker;
    worker = null;
    if (w != null) {
      w.stop().block(T);
    }
    WorkflowWorker c = childWorker;
    childWorker = null;
    if (c != null) {
      c.stop().block(T);
    }
    AutoCloseable m = meters;
    meters = null;
    if (m != null) {
      try {
        m.close();
      } catch (Exception ex) {
        throw new IllegalStateException(ex);
      }
    }
    Store t = trigger;
    trigger = null;
    if (t != null) {
      t.close().block(T);
    }
    Store e = executor;
    executor = null;
    if (e != null) {
      e.close().block(T);
    }
  }
}
