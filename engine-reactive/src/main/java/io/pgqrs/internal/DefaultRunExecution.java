package io.pgqrs.internal;

import io.pgqrs.queue.Lease;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunExecution;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepAcquisition;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** One execution of a run on one delivery of its trigger message. */
final class DefaultRunExecution implements RunExecution {

  private final WorkflowRuntime runtime;
  private final DefaultDelivery delivery;
  private final RunInfo run;
  private final @Nullable Duration untilDeadline;

  DefaultRunExecution(WorkflowRuntime runtime, DefaultDelivery delivery, StoreResults.RunBegun begun) {
    this.runtime = runtime;
    this.delivery = delivery;
    this.run = begun.run();
    this.untilDeadline = begun.untilDeadline();
  }

  @Override
  public RunInfo run() {
    return run;
  }

  /**
   * How long the run had until its deadline when this execution began, by the store's clock: zero
   * once passed, null without a deadline.
   */
  @Nullable Duration untilDeadline() {
    return untilDeadline;
  }

  DefaultDelivery delivery() {
    return delivery;
  }

  @Override
  public Mono<StepAcquisition> acquireStep(String stepId, Duration lease) {
    Objects.requireNonNull(stepId, "stepId");
    Engine.checkPositive("lease", lease);
    return runtime.driver().acquireStep(new StoreParams.AcquireStep(run.id(), stepId, lease, null))
        .map(found -> acquisition(stepId, found));
  }

  private static StepAcquisition acquisition(String stepId, StoreResults.StepAcquired found) {
    if (found instanceof StoreResults.StepExecute e) {
      return new StepAcquisition.Execute(stepId, e.token(), e.attempts(),
          e.previousStatus() == StepStatus.WAITING ? e.untilWake() : null);
    }
    if (found instanceof StoreResults.StepRecorded r) {
      return new StepAcquisition.Recorded(stepId, r.outputJson() == null ? null : Json.parse(r.outputJson()),
          r.outputType());
    }
    if (found instanceof StoreResults.StepFailed f) {
      return new StepAcquisition.Failed(stepId, f.error(), f.attempts());
    }
    if (found instanceof StoreResults.StepNotDue n) {
      return new StepAcquisition.NotDue(stepId, n.after());
    }
    StoreResults.RunStopped s = (StoreResults.RunStopped) found;
    return new StepAcquisition.Stopped(s.status(), s.timedOut());
  }

  @Override
  public Mono<RunStatus> extendStep(StepAcquisition.Execute step, Duration lease) {
    Engine.checkNotNegative("lease", lease);
    return runtime.driver().extendStep(new StoreParams.ExtendStep(run.id(), step.stepId(), step.token(), lease, null))
        .flatMap(x -> x.held() && x.runStatus() != null ? Mono.just(x.runStatus()) : Mono.empty());
  }

  @Override
  public Mono<Boolean> recordStepSuccess(StepAcquisition.Execute step, @Nullable Object output) {
    return Mono.defer(() -> recordOutput(step,
        output == null ? null : runtime.toJson(output, "the output of step '" + step.stepId() + "'"),
        output == null ? null : output.getClass().getName()));
  }

  Mono<Boolean> recordOutput(StepAcquisition.Execute step, @Nullable String json, @Nullable String type) {
    return finishStep(step, StepStatus.SUCCESS, json, type, null, null, null);
  }

  @Override
  public Mono<Boolean> recordStepFailure(StepAcquisition.Execute step, String error, @Nullable Duration retryAfter) {
    Objects.requireNonNull(error, "error");
    return Mono.defer(() -> {
      if (retryAfter != null) {
        Engine.checkNotNegative("retryAfter", retryAfter);
      }
      return finishStep(step, retryAfter == null ? StepStatus.ERROR : StepStatus.RETRY, null, null, error, retryAfter,
          null);
    });
  }

  /**
   * Records a sleep or signal wait: due {@code wakeAfter} from the store's now, or, when null (a
   * wait replayed), at the due time its earlier record holds.
   */
  Mono<Boolean> recordWaiting(StepAcquisition.Execute step, @Nullable Duration wakeAfter, @Nullable String signal) {
    return finishStep(step, StepStatus.WAITING, null, null, null, wakeAfter, signal);
  }

  Mono<StoreResults.SignalTaken> takeSignal(StepAcquisition.Execute step, String name) {
    return runtime.driver().takeStepSignal(new StoreParams.TakeStepSignal(run.id(), step.stepId(), step.token(), name, null));
  }

  private Mono<Boolean> finishStep(StepAcquisition.Execute step, StepStatus status, @Nullable String json,
      @Nullable String type, @Nullable String error, @Nullable Duration wakeAfter, @Nullable String awaiting) {
    return runtime.driver().finishStep(new StoreParams.FinishStep(run.id(), step.stepId(), step.token(), status, json,
        type, error, wakeAfter, awaiting, null));
  }

  @Override
  public Mono<Boolean> complete(@Nullable Object output) {
    return Mono.defer(() -> finish(RunStatus.SUCCESS, runtime.toJson(output, "the output of run " + run.id()), null));
  }

  @Override
  public Mono<Boolean> fail(String error) {
    Objects.requireNonNull(error, "error");
    return finish(RunStatus.ERROR, null, error);
  }

  @Override
  public Mono<Boolean> acknowledgeCancel() {
    return finish(RunStatus.CANCELLED, null, null);
  }

  private Mono<Boolean> finish(RunStatus status, @Nullable String json, @Nullable String error) {
    return delivery.settleWith(lease -> runtime.driver().finishRun(
            new StoreParams.FinishRun(run.id(), ref(lease), status, json, error, null))
        .doOnNext(ended -> runtime.announce(ended == status
            ? new WorkflowRuntime.Finished(run.id(), ended, json, error)
            // Ended otherwise (a cancel arrived): waiters read the run for its reason.
            : new WorkflowRuntime.Finished(run.id(), null, null, null)))
        .hasElement());
  }

  @Override
  public Mono<Boolean> park(@Nullable Duration after) {
    return park(after, false);
  }

  Mono<Boolean> park(@Nullable Duration after, boolean failed) {
    return Mono.defer(() -> {
      if (after != null) {
        Engine.checkNotNegative("after", after);
      }
      return delivery.settleWith(lease -> runtime.driver().suspendRun(
          new StoreParams.SuspendRun(run.id(), ref(lease), after, failed)));
    });
  }

  @Override
  public Mono<Boolean> pause() {
    return runtime.pause(run.id()).then(park(null));
  }

  private static StoreParams.LeaseRef ref(Lease lease) {
    return new StoreParams.LeaseRef(lease.messageId(), lease.token(), null);
  }

  @Override
  public String toString() {
    return "RunExecution[run=" + run.id() + ", workflow=" + run.workflow() + "]";
  }
}
