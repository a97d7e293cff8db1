package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** A registered workflow: triggers runs and builds workers. */
final class DefaultWorkflow<I, O> implements Workflow<I, O> {

  private final WorkflowRuntime runtime;
  private final WorkflowDefinition<I, O> definition;

  DefaultWorkflow(WorkflowRuntime runtime, WorkflowDefinition<I, O> definition) {
    this.runtime = runtime;
    this.definition = definition;
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
    return Mono.defer(() -> {
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
      // The local fast path: a worker of this engine with room takes the run in the trigger itself.
      ConsumerSession.Slot slot = runtime.reserveLocal(definition.queue());
      StoreParams.LeaseTaking lease = slot == null ? null : new StoreParams.LeaseTaking(slot.workerId(), slot.lease());
      Mono<RunHandle<O>> triggered = runtime.driver()
          .triggerRun(new StoreParams.TriggerRun(definition.name(), definition.queue(), definition.version(), json, key,
              definition.timeout(), lease, null))
          .map(t -> {
            if (slot != null) {
              if (t.leased() != null && t.begun() != null) {
                runtime.takenByTrigger();
                slot.adopt(t.leased(), t.begun());
              } else {
                slot.cancel();
              }
            }
            return t.created() ? (RunHandle<O>) new DefaultRunHandle<>(runtime, t.runId(), definition.outputType(),
                System.nanoTime()) : run(t.runId());
          });
      // A leased message whose trigger is abandoned is taken over after its lease, like a crashed worker's.
      return slot == null ? triggered : triggered.doOnError(e -> slot.cancel()).doOnCancel(slot::cancel);
    });
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
