package io.pgqrs.spring;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.Store;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.ApplicationContextException;
import org.springframework.context.SmartLifecycle;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Starts one consumer per {@link PgqrsHandler} method and one worker per {@code @WorkflowMethod}
 * bean when the application context starts, and drains them when it stops: claiming stops, running
 * handlers and runs get their shutdown timeout, the rest is released. Its phase,
 * {@link #PHASE}, is above {@link PgqrsStoreLifecycle#PHASE}, so it stops before the store closes.
 */
final class PgqrsWorkerLifecycle implements SmartLifecycle {

  /** Starts after the store's lifecycle, stops before it. */
  static final int PHASE = PgqrsStoreLifecycle.PHASE + 1024;

  /** Start-up waits this long for each queue check and workflow registration. */
  private static final Duration STARTUP_CALL_TIMEOUT = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(PgqrsWorkerLifecycle.class);

  private final Store store;
  private final PgqrsProperties properties;
  private final PgqrsAnnotationPostProcessor collected;
  private final PgqrsWorkflows workflows;

  private final List<Running> running = new ArrayList<>();
  private final List<WorkflowWorker> workers = new ArrayList<>();
  private volatile boolean started;

  /** A consumer subscription: its stop trigger, and its end (after its worker is stopped). */
  private record Running(Sinks.Empty<Void> stop, Sinks.Empty<Void> ended) {}

  PgqrsWorkerLifecycle(Store store, PgqrsProperties properties, PgqrsAnnotationPostProcessor collected,
      PgqrsWorkflows workflows) {
    this.store = store;
    this.properties = properties;
    this.collected = collected;
    this.workflows = workflows;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }

  @Override
  public boolean isRunning() {
    return started;
  }

  /**
   * Checks the handlers' queues, subscribes their consumers and starts the workflow workers. Blocks
   * the starting thread (the container's, never a Reactor thread) on the queue checks and workflow
   * registrations, so that a missing queue fails start-up.
   *
   * @throws ApplicationContextException naming the method and queue, or the workflow, that cannot
   *     start; what was already started is stopped again
   */
  @Override
  public synchronized void start() {
    if (started) {
      return;
    }
    try {
      List<Consumer> consumers = new ArrayList<>();
      List<HandlerMethod> handlers = collected.handlers();
      for (HandlerMethod handler : handlers) {
        consumers.add(consumerOf(handler));
      }
      for (PgqrsAnnotationPostProcessor.WorkflowBean bean : collected.workflows()) {
        startWorkflow(bean);
      }
      for (int i = 0; i < handlers.size(); i++) {
        subscribe(handlers.get(i), consumers.get(i));
      }
      started = true;
    } catch (RuntimeException e) {
      stop(() -> {});
      throw e;
    }
  }

  private void startWorkflow(PgqrsAnnotationPostProcessor.WorkflowBean bean) {
    String owner = bean.description();
    PgqrsProperties.Workflow defaults = properties.getWorkflow();
    int concurrency = intOf(owner, "concurrency", bean.concurrency(), defaults.getConcurrency());
    Duration shutdownTimeout = durationOf(owner, "shutdownTimeout", bean.shutdownTimeout(), defaults.getShutdownTimeout());
    Duration timeout = durationOf(owner, "timeout", bean.timeout(), null);
    io.pgqrs.workflow.WorkflowDefinition<?, ?> definition;
    try {
      definition = timeout == null ? bean.definition() : bean.definition().withTimeout(timeout);
    } catch (InvalidArgumentException e) {
      throw new ApplicationContextException(owner + ": " + e.getMessage(), e);
    }
    Workflow<?, ?> workflow = call("registering workflow '" + definition.name() + "' of bean '"
        + bean.beanName() + "'", store.runs().register(definition));
    WorkflowWorker.Builder worker;
    try {
      worker = workflow.worker().concurrency(concurrency).shutdownTimeout(shutdownTimeout);
    } catch (InvalidArgumentException e) {
      throw new ApplicationContextException(owner + ": " + e.getMessage(), e);
    }
    workflows.add(workflow);
    workers.add(worker.start());
  }

  private Consumer consumerOf(HandlerMethod handler) {
    String queue = handler.attribute(PgqrsHandler::queue);
    ensureQueue(handler, queue);
    PgqrsProperties.Consumer defaults = properties.getConsumer();
    try {
      Consumer.Builder builder = store.consumer(queue)
          .concurrency(intOf(handler, "concurrency", handler.attribute(PgqrsHandler::concurrency), defaults.getConcurrency()))
          .handlerTimeout(durationOf(handler, "handlerTimeout", handler.attribute(PgqrsHandler::handlerTimeout),
              defaults.getHandlerTimeout()))
          .shutdownTimeout(durationOf(handler, "shutdownTimeout", handler.attribute(PgqrsHandler::shutdownTimeout),
              defaults.getShutdownTimeout()))
          .retryPolicy(retryPolicyOf(handler))
          .deleteOnSuccess(booleanOf(handler, "deleteOnSuccess", handler.attribute(PgqrsHandler::deleteOnSuccess)));
      String workerName = handler.attribute(PgqrsHandler::workerName);
      if (!workerName.isEmpty()) {
        builder.workerName(workerName);
      }
      return builder.build();
    } catch (InvalidArgumentException e) {
      throw new ApplicationContextException("@PgqrsHandler " + handler.description() + " on queue '" + queue
          + "': " + e.getMessage(), e);
    }
  }

  private void ensureQueue(HandlerMethod handler, String queue) {
    String what = "@PgqrsHandler " + handler.description() + ": checking queue '" + queue + "'";
    try {
      call(what, store.queues().get(queue));
    } catch (ApplicationContextException e) {
      if (!(e.getCause() instanceof QueueNotFoundException)) {
        throw e;
      }
      if (!properties.isCreateQueues()) {
        throw new ApplicationContextException("@PgqrsHandler " + handler.description() + " consumes queue '"
            + queue + "', which does not exist: create it, or set pgqrs.create-queues=true", e.getCause());
      }
      call("@PgqrsHandler " + handler.description() + ": creating queue '" + queue + "'",
          store.queues().create(queue).onErrorResume(QueueAlreadyExistsException.class, x -> Mono.empty()));
    }
  }

  private void subscribe(HandlerMethod handler, Consumer consumer) {
    Sinks.Empty<Void> stop = Sinks.empty();
    Sinks.Empty<Void> ended = Sinks.empty();
    String description = handler.description();
    consumer.handleDeliveries(handler.handler(store.objectMapper()), stop.asMono())
        .subscribe(
            outcome -> log.debug("{}: {}", description, outcome),
            error -> {
              log.error("@PgqrsHandler {} stopped consuming queue '{}'", description, consumer.queue(), error);
              ended.tryEmitEmpty();
            },
            ended::tryEmitEmpty);
    running.add(new Running(stop, ended));
  }

  private RetryPolicy retryPolicyOf(HandlerMethod handler) {
    String backoff = handler.attribute(PgqrsHandler::retryBackoff).toLowerCase(Locale.ROOT);
    Duration delay = durationOf(handler, "retryDelay", handler.attribute(PgqrsHandler::retryDelay), Duration.ofSeconds(1));
    RetryPolicy policy;
    double jitter;
    switch (backoff) {
      case "", "exponential" -> {
        Duration max = durationOf(handler, "retryMaxDelay", handler.attribute(PgqrsHandler::retryMaxDelay),
            delay.compareTo(Duration.ofMinutes(5)) > 0 ? delay : Duration.ofMinutes(5));
        policy = RetryPolicy.exponential(delay, max);
        jitter = 0.2;
      }
      case "fixed" -> {
        policy = RetryPolicy.fixed(delay);
        jitter = 0.0;
      }
      default -> throw invalid(handler, "retryBackoff", backoff, "exponential or fixed");
    }
    String jitterText = handler.attribute(PgqrsHandler::retryJitter);
    if (!jitterText.isEmpty()) {
      try {
        jitter = Double.parseDouble(jitterText);
      } catch (NumberFormatException e) {
        throw invalid(handler, "retryJitter", jitterText, "a fraction from 0 to 1");
      }
    }
    policy = policy.withJitter(jitter);
    List<Class<? extends Throwable>> never = List.of(handler.annotation().noRetryFor());
    Predicate<Throwable> retryable = error -> {
      Throwable cause = error instanceof HandlerMethod.HandlerFailedException && error.getCause() != null
          ? error.getCause() : error;
      return !(error instanceof HandlerMethod.PayloadConversionException)
          && never.stream().noneMatch(type -> type.isInstance(cause));
    };
    return policy.retryIf(retryable);
  }

  private static int intOf(HandlerMethod handler, String attribute, String text, int fallback) {
    return intOf("@PgqrsHandler " + handler.description(), attribute, text, fallback);
  }

  private static int intOf(String owner, String attribute, String text, int fallback) {
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw invalid(owner, attribute, text, "an integer");
    }
  }

  private static Duration durationOf(HandlerMethod handler, String attribute, String text, Duration fallback) {
    return java.util.Objects.requireNonNull(durationOf("@PgqrsHandler " + handler.description(), attribute, text,
        fallback));
  }

  private static @Nullable Duration durationOf(String owner, String attribute, String text,
      @Nullable Duration fallback) {
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      return DurationStyle.detectAndParse(text);
    } catch (IllegalArgumentException e) {
      throw invalid(owner, attribute, text, "a duration such as 500ms, 30s, 5m or PT1M");
    }
  }

  private static boolean booleanOf(HandlerMethod handler, String attribute, String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "" , "false" -> false;
      case "true" -> true;
      default -> throw invalid(handler, attribute, text, "true or false");
    };
  }

  private static ApplicationContextException invalid(HandlerMethod handler, String attribute, String value,
      String expected) {
    return invalid("@PgqrsHandler " + handler.description(), attribute, value, expected);
  }

  private static ApplicationContextException invalid(String owner, String attribute, String value,
      String expected) {
    return new ApplicationContextException(owner + ": " + attribute + " '"
        + value + "' is not " + expected);
  }

  /** Startup path only: blocks the container's starting thread. */
  private static <T> @Nullable T call(String what, Mono<T> operation) {
    try {
      return operation.block(STARTUP_CALL_TIMEOUT);
    } catch (PgqrsException e) {
      throw new ApplicationContextException(what + " failed: " + e.getMessage(), e);
    } catch (IllegalStateException e) {
      throw new ApplicationContextException(what + " did not finish within " + STARTUP_CALL_TIMEOUT, e);
    }
  }

  /**
   * Stops every consumer and worker without blocking: each stops claiming at once, and
   * {@code callback} runs when all of them have drained (or gave up after their shutdown timeout).
   *
   * @param callback told when everything has stopped
   */
  @Override
  public synchronized void stop(Runnable callback) {
    started = false;
    List<Mono<Void>> ends = new ArrayList<>();
    for (Running r : running) {
      r.stop().tryEmitEmpty();
      ends.add(r.ended().asMono());
    }
    for (WorkflowWorker worker : workers) {
      ends.add(worker.stop().onErrorResume(e -> {
        log.warn("stopping a workflow worker failed", e);
        return Mono.empty();
      }));
    }
    running.clear();
    workers.clear();
    workflows.clear();
    Mono.when(ends).doFinally(signal -> callback.run()).subscribe(null, e -> log.warn("draining pgqrs workers", e));
  }

  @Override
  public void stop() {
    stop(() -> {});
  }

}
