package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsTransientException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.SignalTimeoutException;
import io.pgqrs.workflow.StepConflictException;
import io.pgqrs.workflow.StepFailedException;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;
import reactor.core.publisher.Sinks;

/**
 * A workflow worker: a consumer of the workflow's queue whose handler replays one run per
 * delivery and finishes or parks it, settling the delivery in the same transaction.
 */
final class DefaultWorkflowWorker<I, O> implements WorkflowWorker {

  private static final Logger log = LoggerFactory.getLogger(DefaultWorkflowWorker.class);
  /** How soon a run whose store call failed transiently is tried again. */
  private static final Duration TRANSIENT_RETRY = Duration.ofSeconds(1);

  private final WorkflowRuntime runtime;
  private final WorkflowDefinition<I, O> definition;
  private final Sinks.Empty<Void> stopRequested = Sinks.empty();
  private final Sinks.Empty<Void> stopped = Sinks.empty();
  private volatile boolean running = true;
  private volatile @Nullable ConsumerSession session;
  /**
   * Runs begun before their message reached the handler, by message id, until delivered: by a
   * trigger of this engine (the local fast path) or in the claim that took their message.
   */
  private final Map<Long, StoreResults.RunBegun> begun = new ConcurrentHashMap<>();
  private final Disposable subscription;

  private DefaultWorkflowWorker(WorkflowRuntime runtime, WorkflowDefinition<I, O> definition, DefaultConsumer consumer) {
    this.runtime = runtime;
    this.definition = definition;
    this.subscription = consumer.runHandler(this::execute, stopRequested.asMono(), s -> {
          session = s;
          s.claimWith(this::claimRuns);
        })
        .subscribe(outcome -> { }, this::failed, this::ended);
    runtime.workerStarted(definition.queue(), this);
  }

  /** Room for a run triggered in this engine, taken in the trigger statement; null when busy or stopping. */
  ConsumerSession.@Nullable Slot reserve() {
    ConsumerSession s = session;
    if (s == null || !running) {
      return null;
    }
    return s.reserve((message, begun) -> this.begun.put(message.id(), (StoreResults.RunBegun) begun));
  }

  /** The worker's claim: its messages claimed and their runs begun in one round trip where the store allows. */
  private Mono<StoreResults.Claimed> claimRuns(String queue, int limit, Duration lease, long workerId) {
    return runtime.driver().claimRuns(new StoreParams.ClaimRuns(
            new StoreParams.Claim(queue, limit, lease, workerId, null), RunTransitions.BEGIN))
        .flatMap(result -> UnreadableMessages.deadLetter(runtime.driver(), queue, result))
        .doOnNext(result -> {
          Engine.logDeadLettered(queue, result.claimed().deadLettered());
          begun.putAll(result.begun());
          runtime.begunInClaim(result.begun().size());
        })
        .map(StoreResults.ClaimedRuns::claimed);
  }

  private void failed(Throwable error) {
    log.error("pgqrs workflow worker of '{}' stopped", definition.name(), error);
    ended();
  }

  private void ended() {
    running = false;
    begun.clear();
    runtime.workerStopped(definition.queue(), this);
    stopped.tryEmitEmpty();
  }

  @Override
  public Mono<Void> stop() {
    return Mono.defer(() -> {
      runtime.workerStopped(definition.queue(), this);
      stopRequested.tryEmitEmpty();
      return stopped.asMono();
    });
  }

  @Override
  public boolean isRunning() {
    return running && !subscription.isDisposed();
  }

  // ---------------------------------------------------------------- one delivery

  private Mono<Void> execute(DefaultDelivery delivery) {
    StoreResults.RunBegun already = begun.remove(delivery.message().id());
    Mono<DefaultRunExecution> taken = (already != null ? runtime.execution(delivery, already)
        : runtime.beginRun(delivery)).map(DefaultRunExecution.class::cast);
    return taken
        .flatMap(this::drive)
        .onErrorResume(InvalidArgumentException.class, e -> {
          log.error("pgqrs dead-letters message {} of workflow queue '{}': {}", delivery.message().id(),
              definition.name(), e.getMessage());
          return delivery.deadLetter(WorkflowRuntime.describe(e)).then();
        })
        .onErrorResume(RunNotFoundException.class, e -> delivery.ack().then());
  }

  private Mono<Void> drive(DefaultRunExecution exec) {
    RunInfo run = exec.run();
    switch (run.status()) {
      case SUCCESS, ERROR, CANCELLED:
        return exec.delivery().ack().then();
      case CANCELLING:
        return exec.acknowledgeCancel().then();
      case PAUSED:
        return exec.park(null).then();
      default:
        break;
    }
    // The store's clock says how long the run has left; the JVM's clock is never compared with it.
    Duration untilDeadline = exec.untilDeadline();
    if (untilDeadline != null && (untilDeadline.isZero() || untilDeadline.isNegative())) {
      return exec.fail(timedOut(run)).then();
    }
    I input;
    try {
      input = runtime.fromJson(run.input(), runtime.mapper().constructType(definition.inputType()),
          "the input of run " + run.id());
    } catch (SerializationFailedException e) {
      return exec.fail(WorkflowRuntime.describe(e)).then();
    }
    if (run.attempts() == 1) {
      runtime.engine().telemetry().runStarted(definition.name());
    }
    DefaultRunContext ctx = new DefaultRunContext(runtime, exec, definition);
    Mono<O> execution = Mono.defer(() -> {
          Mono<O> pipeline = definition.body().apply(ctx, input);
          return pipeline == null
              ? Mono.<O>error(new NullPointerException("the body of workflow '" + definition.name() + "' returned null"))
              : pipeline;
        });
    Telemetry telemetry = runtime.engine().telemetry();
    if (telemetry != Telemetry.NONE) {
      execution = telemetry.aroundRun(definition.name(), run.id(), run.attempts(), exec.delivery().message(), execution);
    }
    Mono<Optional<Signal<O>>> body = execution
        .subscribeOn(ctx.serial())
        .materialize()
        .map(Optional::of);
    Mono<DefaultRunContext.Interrupt> timeout = untilDeadline == null ? Mono.never()
        : Mono.delay(untilDeadline, runtime.engine().timers())
            .map(t -> (DefaultRunContext.Interrupt) new DefaultRunContext.TimedOut())
            .doOnNext(ctx::interrupt);
    return Mono.firstWithSignal(body, Mono.firstWithSignal(ctx.interrupts(), timeout).map(i -> Optional.<Signal<O>>empty()))
        .flatMap(result -> settle(exec, ctx, result))
        .doOnSubscribe(s -> runtime.executing(run.id(), ctx))
        .doFinally(s -> {
          ctx.close();
          runtime.finishedExecuting(run.id(), ctx);
        });
  }

  private Mono<Void> settle(DefaultRunExecution exec, DefaultRunContext ctx, Optional<Signal<O>> result) {
    DefaultRunContext.Interrupt interrupt = ctx.interruption();
    if (interrupt != null || result.isEmpty()) {
      return interrupted(exec, interrupt == null ? new DefaultRunContext.Lost() : interrupt);
    }
    Signal<O> signal = result.get();
    Throwable error = signal.getThrowable();
    if (error == null) {
      return exec.complete(signal.get())
          .onErrorResume(SerializationFailedException.class, e -> exec.fail(WorkflowRuntime.describe(e)))
          .then();
    }
    if (error instanceof PgqrsTransientException) {
      log.warn("pgqrs parks run {} of '{}' for {} after a store error: {}", exec.run().id(), definition.name(),
          TRANSIENT_RETRY, error.toString());
      return exec.park(TRANSIENT_RETRY).then();
    }
    StepOptions retries = definition.workflowRetries();
    int attempt = exec.run().failures() + 1;
    boolean permanent = error instanceof StepFailedException || error instanceof SignalTimeoutException
        || error instanceof StepConflictException || error instanceof SerializationFailedException
        || error instanceof InvalidArgumentException;
    boolean retryable = !permanent && (error instanceof RetryLaterException || retries.policy().retries(error));
    String text = WorkflowRuntime.describe(error);
    if (retryable && attempt < retries.maxAttempts()) {
      Duration delay = error instanceof RetryLaterException later ? later.delay() : retries.policy().delayAfter(attempt);
      log.debug("pgqrs retries run {} of '{}' in {}: {}", exec.run().id(), definition.name(), delay, text);
      return exec.park(delay, true).then();
    }
    return exec.fail(text).then();
  }

  private Mono<Void> interrupted(DefaultRunExecution exec, DefaultRunContext.Interrupt interrupt) {
    if (interrupt instanceof DefaultRunContext.Park park) {
      return exec.park(park.after()).then();
    }
    if (interrupt instanceof DefaultRunContext.Pause) {
      return exec.park(null).then();
    }
    if (interrupt instanceof DefaultRunContext.Cancel) {
      return exec.acknowledgeCancel().then();
    }
    if (interrupt instanceof DefaultRunContext.Diverged diverged) {
      log.error("pgqrs pauses run {} of '{}': {}", exec.run().id(), definition.name(), diverged.error().getMessage());
      return runtime.pause(exec.run().id(), WorkflowRuntime.describe(diverged.error()))
          .onErrorResume(e -> Mono.empty())
          .then(exec.park(null))
          .then();
    }
    if (interrupt instanceof DefaultRunContext.TimedOut) {
      return exec.fail(timedOut(exec.run())).then();
    }
    if (interrupt instanceof DefaultRunContext.Finished) {
      return exec.delivery().ack().then(Mono.fromRunnable(() -> runtime.endedElsewhere(exec.run().id())));
    }
    // Lost: another worker owns the run; hand the message back in case this one still holds it.
    return exec.park(null).then(Mono.fromRunnable(() -> runtime.endedElsewhere(exec.run().id())));
  }

  private static String timedOut(RunInfo run) {
    Instant deadline = run.deadline();
    return deadline == null ? "the run timed out: its deadline passed"
        : "the run timed out: its deadline " + deadline + " passed";
  }

  // ---------------------------------------------------------------- builder

  /** Builds workers of one workflow. */
  static final class Builder<I, O> implements WorkflowWorker.Builder {

    private final WorkflowRuntime runtime;
    private final WorkflowDefinition<I, O> definition;
    private int concurrency = 8;
    private @Nullable Duration lease;
    private @Nullable Duration pollInterval;
    private Duration shutdownTimeout = Duration.ofSeconds(30);

    Builder(WorkflowRuntime runtime, WorkflowDefinition<I, O> definition) {
      this.runtime = runtime;
      this.definition = definition;
    }

    @Override
    public Builder<I, O> concurrency(int value) {
      Engine.checkLimit("concurrency", value, 10_000);
      this.concurrency = value;
      return this;
    }

    @Override
    public Builder<I, O> lease(Duration value) {
      Engine.checkPositive("lease", value);
      this.lease = value;
      return this;
    }

    @Override
    public Builder<I, O> pollInterval(Duration value) {
      Engine.checkPositive("pollInterval", value);
      this.pollInterval = value;
      return this;
    }

    @Override
    public Builder<I, O> shutdownTimeout(Duration value) {
      Engine.checkNotNegative("shutdownTimeout", value);
      this.shutdownTimeout = value;
      return this;
    }

    @Override
    public WorkflowWorker start() {
      DefaultConsumer.Builder consumer = new DefaultConsumer.Builder(runtime.engine(), definition.queue());
      // Runs are bounded by their own deadline, not by a handler timeout.
      consumer.concurrency(concurrency).maxInFlight(concurrency).batchSize(Math.min(concurrency, 50))
          .shutdownTimeout(shutdownTimeout).workflowHandler();
      if (lease != null) {
        consumer.lease(lease);
      }
      if (pollInterval != null) {
        consumer.pollInterval(pollInterval);
      }
      return new DefaultWorkflowWorker<>(runtime, definition, (DefaultConsumer) consumer.build());
    }
  }
}
