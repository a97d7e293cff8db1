package io.pgqrs.internal;

import io.pgqrs.RetryLaterException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * One subscription of {@link io.pgqrs.queue.Consumer#handle}: runs the handler on the session's
 * deliveries and records each outcome. The handler pipeline is its own subscription, not part of
 * the subscriber's chain, so cancelling the outcomes starts a graceful shutdown instead of
 * cancelling the handlers in flight.
 */
final class HandlerRun {

  private static final Logger log = LoggerFactory.getLogger(HandlerRun.class);

  private final ConsumerSession session;
  private final DefaultConsumer.Settings settings;
  private final Function<DefaultDelivery, ? extends Publisher<?>> handler;
  private final @Nullable Publisher<?> stop;
  private final Sinks.Many<Outcome> outcomes = Sinks.many().unicast().onBackpressureBuffer();
  private final AtomicBoolean shuttingDown = new AtomicBoolean();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
  private volatile @Nullable Disposable pipeline;
  private volatile @Nullable Disposable deadline;
  private volatile @Nullable Disposable stopWatch;

  HandlerRun(ConsumerSession session, Function<DefaultDelivery, ? extends Publisher<?>> handler,
      @Nullable Publisher<?> stop) {
    this.session = session;
    this.settings = session.settings();
    this.handler = handler;
    this.stop = stop;
  }

  Flux<Outcome> outcomes() {
    return outcomes.asFlux()
        .doOnSubscribe(s -> start())
        .doOnCancel(this::shutdown);
  }

  private void start() {
    session.stopRequests().subscribe(v -> { }, e -> { }, this::shutdown);
    if (stop != null) {
      stopWatch = Flux.from(stop).take(1).subscribe(v -> shutdown(), e -> shutdown(), this::shutdown);
    }
    // A handler's place frees when its handler ends, not when its outcome is written: the write
    // goes on beside the next handlers (and shares statements with theirs), while the message
    // stays held, so the in-flight bound still counts it until the store has recorded it.
    pipeline = session.deliveries()
        .flatMap(d -> run((DefaultDelivery) d), settings.concurrency())
        .flatMap(this::record, Math.max(1, settings.handlerInFlight()))
        .subscribe(this::emit, this::pipelineFailed, this::end);
  }

  private void emit(Outcome outcome) {
    outcomes.tryEmitNext(outcome);
  }

  private void shutdown() {
    if (!shuttingDown.compareAndSet(false, true)) {
      return;
    }
    // Armed before the stop request, which can end the pipeline (and run end()) at once; and
    // disarmed here if end() ran before it was armed, or it would fire after the end with a
    // warning about handlers that finished long ago.
    Disposable timer = Mono.delay(settings.shutdownTimeout(), session.engine().timers()).subscribe(t -> {
      if (ended.get()) {
        return;
      }
      Disposable p = pipeline;
      if (p != null) {
        log.warn("pgqrs consumer of queue '{}': handlers still running after {}, releasing their messages",
            settings.queue(), settings.shutdownTimeout());
        p.dispose();
      }
      end();
    });
    deadline = timer;
    if (ended.get()) {
      timer.dispose();
    }
    session.requestStop();
  }

  private void pipelineFailed(Throwable error) {
    failure.set(error);
    end();
  }

  /** After the pipeline ended (or the deadline passed): release what is left, stop the worker, complete. */
  private void end() {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    session.requestStop();
    Disposable d = deadline;
    if (d != null) {
      d.dispose();
    }
    Disposable w = stopWatch;
    if (w != null) {
      w.dispose();
    }
    session.finish().subscribe(released -> released(released), e -> complete(), this::complete);
  }

  private void released(List<DefaultDelivery> released) {
    for (DefaultDelivery d : released) {
      emit(outcome(d, Outcome.Kind.RELEASED_ON_SHUTDOWN, Duration.ZERO, null));
    }
  }

  private void complete() {
    Throwable error = failure.get();
    if (error != null) {
      outcomes.tryEmitError(error);
    } else {
      outcomes.tryEmitComplete();
    }
  }

  // ---------------------------------------------------------------- one message

  /** A handler that ended: its delivery, how it ended (null: it completed) and how long it took. */
  private record Ran(DefaultDelivery delivery, @Nullable Throwable error, long tookNanos) {}

  /** Runs the handler on one delivery; emits how it ended, or nothing for a delivery left to the shutdown. */
  private Mono<Ran> run(DefaultDelivery d) {
    if (shuttingDown.get()) {
      // Claimed ahead and not started when the shutdown began: the session releases it at the end
      // and reports it as released, instead of starting a handler the shutdown would have to wait for.
      return Mono.empty();
    }
    Message message = d.message();
    Telemetry telemetry = session.engine().telemetry();
    // When the handler began: one execution at a time touches it.
    long[] startedAt = new long[1];
    Mono<Void> handled = Mono.defer(() -> {
          startedAt[0] = System.nanoTime();
          if (telemetry != Telemetry.NONE) {
            if (d.attempts() == 1) {
              Duration waited = Duration.between(message.enqueuedAt(), session.engine().config().clock().instant());
              telemetry.handlerStarted(settings.queue(), waited.isNegative() ? Duration.ZERO : waited);
            }
          }
          Publisher<?> result = handler.apply(d);
          if (result == null) {
            return Mono.error(new NullPointerException("the handler returned null for message " + message.id()));
          }
          return Flux.from(result).then();
        });
    // A workflow run's execution is observed as a run (DefaultWorkflowWorker), not as a handler.
    if (telemetry != Telemetry.NONE && !settings.workflowHandler()) {
      handled = telemetry.aroundHandle(settings.queue(), message, handled);
    }
    // The engine's workflow executor moves its work to the run's serial scheduler itself and is
    // bounded by the run's deadline; a user's handler is moved off the delivering thread and timed.
    Mono<Void> work = settings.workflowHandler() ? handled
        : handled.subscribeOn(Schedulers.parallel())
            .timeout(settings.handlerTimeout(), Mono.error(() -> new TimeoutException(
                "handler timed out after " + settings.handlerTimeout())), session.engine().timers());
    return work.materialize()
        .map(signal -> {
          long took = System.nanoTime() - startedAt[0];
          if (startedAt[0] != 0) {
            // A handler cancelled before it began (a timeout while waiting for a thread) tells nothing of its pace.
            session.handlerTook(took);
          }
          return new Ran(d, signal.getThrowable(), took);
        });
  }

  /** Writes the outcome of a handler that ended. Cold; a store error becomes a NOT_RECORDED outcome. */
  private Mono<Outcome> record(Ran ran) {
    DefaultDelivery d = ran.delivery();
    Mono<Outcome> outcome = Mono.defer(() -> ran.error() == null ? succeeded(d) : failed(d, ran.error()));
    Telemetry telemetry = session.engine().telemetry();
    if (telemetry != Telemetry.NONE) {
      outcome = outcome.doOnNext(o -> telemetry.handled(settings.queue(), o.kind(),
          Duration.ofNanos(Math.max(0, ran.tookNanos()))));
    }
    return outcome
        .onErrorResume(e -> {
          log.error("pgqrs could not record the outcome of message {} on queue '{}'; it will be delivered again "
              + "when its lease expires", d.id(), settings.queue(), e);
          return Mono.just(outcome(d, Outcome.Kind.NOT_RECORDED, null, WorkflowRuntime.describe(e)));
        });
  }

  private Mono<Outcome> succeeded(DefaultDelivery d) {
    if (d.settled()) {
      return Mono.just(outcome(d, Outcome.Kind.SETTLED_BY_HANDLER, null, null));
    }
    if (d.leaseLost()) {
      return Mono.just(lost(d, null));
    }
    Outcome.Kind kind = settings.deleteOnSuccess() ? Outcome.Kind.DELETED : Outcome.Kind.ARCHIVED;
    Mono<Boolean> ack = Mono.defer(() -> settings.deleteOnSuccess() ? d.delete() : d.ack());
    return ack
        .map(done -> done ? outcome(d, kind, null, null) : lost(d, null));
  }

  private Mono<Outcome> failed(DefaultDelivery d, Throwable error) {
    String text = WorkflowRuntime.describe(error);
    if (d.settled()) {
      // Settled by the handler before it failed: what it did stands.
      return Mono.just(outcome(d, Outcome.Kind.SETTLED_BY_HANDLER, null, text));
    }
    if (d.leaseLost()) {
      return Mono.just(lost(d, text));
    }
    RetryPolicy policy = settings.retryPolicy();
    boolean last = Attempts.exhausted(d.attempts(), session.maxAttempts());
    if (last || (!(error instanceof RetryLaterException) && !policy.retries(error))) {
      log.warn("pgqrs dead-letters message {} of queue '{}' after {} attempt(s): {}", d.id(), settings.queue(),
          d.attempts(), text);
      return Mono.defer(() -> d.deadLetter(text))
          .map(done -> done ? outcome(d, Outcome.Kind.DEAD_LETTERED, null, text) : lost(d, text));
    }
    Duration delay = error instanceof RetryLaterException later ? later.delay() : policy.delayAfter(d.attempts());
    log.debug("pgqrs retries message {} of queue '{}' in {}: {}", d.id(), settings.queue(), delay, text);
    return Mono.defer(() -> d.release(delay, text))
        .map(done -> done ? outcome(d, Outcome.Kind.RETRY_SCHEDULED, delay, text)
            : lost(d, text));
  }

  private static Outcome outcome(DefaultDelivery d, Outcome.Kind kind, @Nullable Duration retryIn,
      @Nullable String error) {
    return new Outcome(d.id(), kind, d.attempts(), retryIn, error, d.message().enqueuedAt());
  }

  private Outcome lost(DefaultDelivery d, @Nullable String error) {
    log.warn("pgqrs discarded the outcome of message {} on queue '{}': its lease was lost", d.id(), settings.queue());
    return outcome(d, Outcome.Kind.LEASE_LOST, null, error);
  }
}
