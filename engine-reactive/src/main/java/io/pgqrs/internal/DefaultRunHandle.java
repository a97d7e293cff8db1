package io.pgqrs.internal;

import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.WorkflowFailedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A handle holding a run id; every method reads or writes the store when subscribed. */
final class DefaultRunHandle<O> implements RunHandle<O> {

  private final WorkflowRuntime runtime;
  private final long runId;
  private final Class<O> outputType;
  /** When this engine created the run (System.nanoTime), or 0 when the handle was made for any run. */
  private final long createdHereNanos;

  DefaultRunHandle(WorkflowRuntime runtime, long runId, Class<O> outputType) {
    this(runtime, runId, outputType, 0);
  }

  DefaultRunHandle(WorkflowRuntime runtime, long runId, Class<O> outputType, long createdHereNanos) {
    this.runtime = runtime;
    this.runId = runId;
    this.outputType = outputType;
    this.createdHereNanos = createdHereNanos;
  }

  /**
   * A run this engine triggered a moment ago cannot have finished unseen: its end is announced
   * here or by notification, so its result needs no first read. Later, the announcement may have
   * been forgotten, so the result is read.
   */
  private boolean mayHaveFinishedUnseen() {
    return createdHereNanos == 0 || System.nanoTime() - createdHereNanos > FRESH_NANOS;
  }

  private static final long FRESH_NANOS = java.time.Duration.ofSeconds(1).toNanos();

  @Override
  public long runId() {
    return runId;
  }

  @Override
  public Mono<RunStatus> status() {
    return info().map(RunInfo::status);
  }

  @Override
  public Mono<RunInfo> info() {
    return runtime.get(runId);
  }

  @Override
  public Flux<StepInfo> steps() {
    return runtime.steps(runId);
  }

  @Override
  public Mono<O> result() {
    return runtime.awaitFinished(runId, mayHaveFinishedUnseen()).flatMap(run -> {
      RunStatus status = java.util.Objects.requireNonNull(run.status());
      if (status != RunStatus.SUCCESS) {
        return Mono.error(new WorkflowFailedException(runId, status, run.error() == null ? "" : run.error()));
      }
      String output = run.outputJson();
      if (output == null) {
        return Mono.empty();
      }
      return Mono.fromCallable(() -> runtime.<O>fromJson(output, runtime.mapper().constructType(outputType),
          "the output of run " + runId));
    });
  }

  @Override
  public <T> Mono<T> event(String key, Class<T> type) {
    return runtime.event(runId, key, type);
  }

  @Override
  public <T> Flux<T> events(String key, Class<T> type) {
    return runtime.events(runId, key, type);
  }

  @Override
  public Mono<Void> signal(String name, Object value) {
    return runtime.signal(runId, name, value);
  }

  @Override
  public Mono<RunInfo> pause() {
    return runtime.pause(runId);
  }

  @Override
  public Mono<RunInfo> resume() {
    return runtime.resume(runId);
  }

  @Override
  public Mono<RunInfo> cancel(String reason) {
    return runtime.cancel(runId, reason);
  }

  @Override
  public String toString() {
    return "RunHandle[" + runId + "]";
  }
}
