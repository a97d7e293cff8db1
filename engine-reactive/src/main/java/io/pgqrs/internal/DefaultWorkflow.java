package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A registered workflow: triggers runs (on the engine's connections or, for a view from
 * {@link #inTransaction}, on the caller's) and builds workers.
 */
final class DefaultWorkflow<I, O> implements Workflow<I, O> {

  private final WorkflowRuntime runtime;
  private final WorkflowDefinition<I, O> definition;
  /** The caller's connection this view triggers on, or null for the engine's own connections. */
  private final @Nullable Connection callerConnection;

  DefaultWorkflow(WorkflowRuntime runtime, WorkflowDefinition<I, O> definition) {
    this(runtime, definition, null);
  }

  private DefaultWorkflow(WorkflowRuntime runtime, WorkflowDefinition<I, O> definition,
      @Nullable Connection callerConnection) {
    this.runtime = runtime;
    this.definition = definition;
    this.callerConnection = callerConnection;
  }

  @Override
  public Workflow<I, O> inTransaction(Connection connection) {
    return new DefaultWorkflow<>(runtime, definition, CallerTransactions.require(connection));
  }

  @Override
  public WorkflowDefinition<I, O> definition() {
    return definition;
  }

  @Override
  public Mono<RunHandle<O>> trigger(I input) {
    return trigger(input, null, false);
  }

  @Override
  public Mono<RunHandle<O>> trigger(I input, String idempotencyKey) {
    return trigger(input, idempotencyKey, true);
  }

  private Mono<RunHandle<O>> trigger(I input, @Nullable String key, boolean keyed) {
    return trigger(input, key, keyed, null, true).map(Triggered::handle);
  }

  /** A trigger's handle, and whether the trigger created the run (false: the key named an existing one). */
  record Triggered<O>(RunHandle<O> handle, boolean created) {}

  /**
   * Triggers a child of the run {@code parentRunId} under {@code key}, naming its parent in the
   * trigger's own statement, so the parent's cancel finds it from the moment it exists. Cold; an
   * existing run under the key is returned as it is ({@code created} false), its parent unchanged.
   */
  Mono<Triggered<O>> triggerChild(I input, String key, long parentRunId, boolean cancelWithParent) {
    return trigger(input, key, true, parentRunId, cancelWithParent);
  }

  private Mono<Triggered<O>> trigger(I input, @Nullable String key, boolean keyed, @Nullable Long parentRunId,
      boolean cancelWithParent) {
    return Mono.defer(() -> {
      Connection bound = callerConnection;
      if (bound != null) {
        PgqrsException refused = CallerTransactions.refusal(runtime.driver(), bound, "trigger");
        if (refused != null) {
          return Mono.error(refused);
        }
      }
      if (keyed) {
        WorkflowRuntime.checkKey(key);
      }
      // Generics are erased: a raw caller can pass anything, and a run with an input its body
      // cannot read would only fail later, on a worker.
      if (input == null || !definition.inputType().isInstance(input)) {
        throw new InvalidArgumentException("input", "the input of workflow '" + definition.name() + "' must be a "
            + definition.inputType().getName() + ", got " + (input == null ? "null" : input.getClass().getName()));
      }
      String json = runtime.toJson(input, "the input of workflow '" + definition.name() + "'");
      Telemetry telemetry = runtime.engine().telemetry();
      Parent parent = new Parent(parentRunId, cancelWithParent);
      return telemetry == Telemetry.NONE ? trigger(json, key, bound, null, parent)
          : telemetry.aroundTrigger(definition.name(),
              headers -> trigger(json, key, bound, Json.headersJson(headers), parent));
    });
  }

  private record Parent(@Nullable Long runId, boolean cancelWithParent) {}

  private Mono<Triggered<O>> trigger(String json, @Nullable String key, @Nullable Connection bound,
      @Nullable String headersJson, Parent parent) {
    return Mono.defer(() -> {
      if (bound != null) {
        return triggerInCallerTransaction(json, key, bound, headersJson, parent);
      }
      // The local fast path: a worker of this engine with room takes the run in the trigger itself.
      ConsumerSession.Slot slot = runtime.reserveLocal(definition.queue());
      StoreParams.LeaseTaking lease = slot == null ? null : new StoreParams.LeaseTaking(slot.workerId(), slot.lease());
      Mono<Triggered<O>> triggered = runtime.driver()
          .triggerRun(new StoreParams.TriggerRun(definition.name(), definition.queue(), definition.version(), json, key,
              definition.timeout(), lease, null, headersJson, parent.runId(), parent.cancelWithParent()))
          .map(t -> {
            if (slot != null) {
              if (t.leased() != null && t.begun() != null) {
                runtime.takenByTrigger();
                slot.adopt(t.leased(), t.begun());
              } else {
                slot.cancel();
              }
            }
            return new Triggered<>(t.created() ? new DefaultRunHandle<>(runtime, t.runId(), definition.outputType(),
                System.nanoTime()) : run(t.runId()), t.created());
          });
      // A leased message whose trigger is abandoned is taken over after its lease, like a crashed worker's.
      return slot == null ? triggered : triggered.doOnError(e -> slot.cancel()).doOnCancel(slot::cancel);
    });
  }

  /**
   * A trigger on the caller's connection: never the local fast path, since a worker given the run
   * now would run it before the caller commits (or after it rolls back). The handle always reads the
   * run when its result is awaited: the caller's commit, and the run's end, may come any time later.
   */
  private Mono<Triggered<O>> triggerInCallerTransaction(String json, @Nullable String key, Connection connection,
      @Nullable String headersJson, Parent parent) {
    return runtime.driver()
        .triggerRunInTransaction(new StoreParams.TriggerRun(definition.name(), definition.queue(),
            definition.version(), json, key, definition.timeout(), null, null, headersJson, parent.runId(),
            parent.cancelWithParent()), connection)
        .map(t -> new Triggered<>(run(t.runId()), t.created()));
  }

  @Override
  public RunHandle<O> run(long runId) {
    return new DefaultRunHandle<>(runtime, runId, definition.outputType());
  }

  @Override
  public WorkflowWorker.Builder worker() {
    return new DefaultWorkflowWorker.Builder<>(runtime, definition);
  }

  @Override
  public String toString() {
    return "Workflow[" + definition.name() + "]";
  }
}
