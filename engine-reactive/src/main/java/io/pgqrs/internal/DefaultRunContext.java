package io.pgqrs.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.SignalTimeoutException;
import io.pgqrs.workflow.Step;
import io.pgqrs.workflow.StepAcquisition;
import io.pgqrs.workflow.StepConflictException;
import io.pgqrs.workflow.StepFailedException;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.WorkflowDefinition;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;
import reactor.core.publisher.Sinks;

/**
 * The context of one execution of a run's body: step identities, memoized steps, sleeps and
 * signal waits, and the interruption that ends this execution when the run must park or stop.
 */
final class DefaultRunContext implements RunContext {

  private static final Logger log = LoggerFactory.getLogger(DefaultRunContext.class);
  private static final int MAX_STEP_NAME = 200;
  private static final String SLEEP = "pgqrs.sleep";
  private static final String SIGNAL = "pgqrs.signal.";

  /** Why this execution of the body ends early. */
  sealed interface Interrupt permits Park, Pause, Cancel, TimedOut, Lost, Finished {}

  /**
   * Park the run for a while (counted by the store's clock): a sleep, a retry, a signal wait, a step
   * another worker holds.
   */
  record Park(Duration after) implements Interrupt {}

  /** The run was paused. */
  record Pause() implements Interrupt {}

  /** The run is being cancelled. */
  record Cancel() implements Interrupt {}

  /** The run's deadline passed. */
  record TimedOut() implements Interrupt {}

  /** A step lease was lost: another worker owns this run now. */
  record Lost() implements Interrupt {}

  /** The run finished or disappeared meanwhile. */
  record Finished() implements Interrupt {}

  /** Ends a body's pipeline; carries no stack trace, since it is control flow. */
  static final class RunInterrupted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RunInterrupted(Interrupt reason) {
      super("workflow run interrupted: " + reason, null, false, false);
    }
  }

  private final WorkflowRuntime runtime;
  private final DefaultRunExecution exec;
  private final WorkflowDefinition<?, ?> definition;
  private final Map<String, String> callsites = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final AtomicReference<@Nullable Interrupt> interruption = new AtomicReference<>();
  private final Sinks.One<Interrupt> interrupts = Sinks.one();

  DefaultRunContext(WorkflowRuntime runtime, DefaultRunExecution exec, WorkflowDefinition<?, ?> definition) {
    this.runtime = runtime;
    this.exec = exec;
    this.definition = definition;
  }

  @Override
  public long runId() {
    return exec.run().id();
  }

  @Override
  public String workflow() {
    return definition.name();
  }

  // ---------------------------------------------------------------- interruption

  /** Records the first interruption and ends the body's pipeline through {@link #interrupts()}. */
  void interrupt(Interrupt reason) {
    if (interruption.compareAndSet(null, reason)) {
      interrupts.tryEmitValue(reason);
    }
  }

  @Nullable Interrupt interruption() {
    return interruption.get();
  }

  Mono<Interrupt> interrupts() {
    return interrupts.asMono();
  }

  private <T> Mono<T> stop(Interrupt reason) {
    interrupt(reason);
    return Mono.error(new RunInterrupted(Objects.requireNonNull(interruption.get())));
  }

  private static Interrupt stopped(StepAcquisition.Stopped s) {
    if (s.timedOut()) {
      return new TimedOut();
    }
    RunStatus status = s.status();
    if (status == RunStatus.PAUSED) {
      return new Pause();
    }
    if (status == RunStatus.CANCELLING) {
      return new Cancel();
    }
    return new Finished();
  }

  // ---------------------------------------------------------------- identities

  /**
   * The step's identity: its name for the first call, then {@code name#n} in call order. Called at
   * assembly, when the body calls the step method, so identities follow the code's call order.
   */
  private String identify(String name, @Nullable String site) {
    if (name == null || name.isEmpty() || name.length() > MAX_STEP_NAME || name.indexOf('#') >= 0) {
      throw new InvalidArgumentException("name", "a step name must be 1 to " + MAX_STEP_NAME
          + " characters without '#', got " + (name == null ? "null" : "'" + name + "'"));
    }
    if (site != null) {
      String first = callsites.putIfAbsent(name, site);
      if (first != null && !first.equals(site)) {
        throw new StepConflictException(name, first, site);
      }
    }
    int n = calls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    return n == 1 ? name : name + "#" + n;
  }

  /** The first frame outside this library and reflection: where the body called the step. */
  private static String callsite() {
    return StackWalker.getInstance().walk(frames -> frames
        .filter(f -> {
          String c = f.getClassName();
          return !c.startsWith("io.pgqrs.internal.") && !c.startsWith("jdk.proxy") && !c.startsWith("com.sun.proxy")
              && !c.startsWith("java.lang.reflect.") && !c.startsWith("jdk.internal.");
        })
        .findFirst()
        .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
        .orElse("unknown"));
  }

  // ---------------------------------------------------------------- steps

  @Override
  public <T> Mono<T> step(String name, Class<T> type, Supplier<? extends Mono<? extends T>> supplier) {
    return step(name, type, definition.stepOptions(), supplier);
  }

  @Override
  public <T> Mono<T> step(String name, TypeReference<T> type, Supplier<? extends Mono<? extends T>> supplier) {
    Objects.requireNonNull(type, "type");
    return run(name, callsite(), runtime.mapper().constructType(type), definition.stepOptions(), supplier);
  }

  @Override
  public <T> Mono<T> step(String name, Class<T> type, StepOptions options,
      Supplier<? extends Mono<? extends T>> supplier) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(options, "options");
    return run(name, callsite(), runtime.mapper().constructType(type), options, supplier);
  }

  @Override
  public <T> Mono<T> step(String name, Supplier<? extends Mono<T>> supplier) {
    return run(name, callsite(), null, definition.stepOptions(), supplier);
  }

  private <T> Mono<T> run(String name, @Nullable String site, @Nullable JavaType type, StepOptions options,
      Supplier<? extends Mono<? extends T>> supplier) {
    Objects.requireNonNull(supplier, "supplier");
    return memoized(name, site, type, (stepId, step) -> execute(step, type, options, supplier, false));
  }

  /** A step replayed from its record, or executed by {@code execute} under its lease. */
  private <T> Mono<T> memoized(String name, @Nullable String site, @Nullable JavaType type,
      BiFunction<String, StepAcquisition.Execute, Mono<T>> execute) {
    return acquire(name, site, (stepId, acquired) -> {
      if (acquired instanceof StepAcquisition.Recorded r) {
        return replay(r, type);
      }
      if (acquired instanceof StepAcquisition.Failed f) {
        return Mono.error(new StepFailedException(stepId, f.attempts(), f.error()));
      }
      return execute.apply(stepId, (StepAcquisition.Execute) acquired);
    });
  }

  @Override
  public <T> Mono<T> transactionalStep(String name, Class<T> type,
      java.util.function.Function<io.r2dbc.spi.Connection, ? extends Mono<? extends T>> work) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(work, "work");
    JavaType javaType = runtime.mapper().constructType(type);
    return memoized(name, callsite(), javaType, (stepId, step) -> {
      io.pgqrs.spi.StoreParams.FinishStep record = new io.pgqrs.spi.StoreParams.FinishStep(runId(), stepId, step.token(),
          io.pgqrs.workflow.StepStatus.SUCCESS, null, null, null, null, null, null);
      String what = "the output of step '" + stepId + "'";
      Supplier<Mono<T>> inTransaction = () -> {
        // The JSON recorded in the transaction, read back so the first execution sees what replays will.
        AtomicReference<String> recorded = new AtomicReference<>();
        return runtime.driver().transactionalLeasedStep(record,
                connection -> Mono.defer(() -> work.apply((io.r2dbc.spi.Connection) connection)).<T>map(v -> v),
                value -> {
                  String json = runtime.toJson(value, what);
                  recorded.set(json);
                  return json;
                })
            .map(value -> runtime.<T>fromJson(Objects.requireNonNull(recorded.get()), javaType, what));
      };
      return execute(step, javaType, definition.stepOptions(), inTransaction, true);
    });
  }

  /**
   * Identifies the step now (call order) and acquires it when subscribed, turning "not due" and
   * "stopped" into interruptions; the handler sees Recorded, Failed or Execute.
   */
  private <T> Mono<T> acquire(String name, @Nullable String site,
      BiFunction<String, StepAcquisition, Mono<T>> handler) {
    String stepId;
    try {
      stepId = identify(name, site);
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    return Mono.defer(() -> {
      Interrupt early = interruption.get();
      if (early != null) {
        return Mono.error(new RunInterrupted(early));
      }
      return exec.acquireStep(stepId, definition.stepLease()).flatMap(acquired -> {
        if (acquired instanceof StepAcquisition.NotDue n) {
          return stop(new Park(n.after()));
        }
        if (acquired instanceof StepAcquisition.Stopped s) {
          return stop(stopped(s));
        }
        return handler.apply(stepId, acquired);
      });
    });
  }

  private <T> Mono<T> replay(StepAcquisition.Recorded recorded, @Nullable JavaType type) {
    JsonNode output = recorded.output();
    if (output == null || output.isNull()) {
      return Mono.empty();
    }
    return Mono.fromCallable(() -> runtime.<T>fromJson(output, type != null ? type : recordedType(recorded),
        "the recorded output of step '" + recorded.stepId() + "'"));
  }

  private JavaType recordedType(StepAcquisition.Recorded recorded) {
    String name = recorded.outputType();
    if (name == null) {
      return runtime.mapper().constructType(Object.class);
    }
    try {
      return runtime.mapper().constructType(Class.forName(name, false, definition.body().getClass().getClassLoader()));
    } catch (ClassNotFoundException e) {
      throw new SerializationFailedException("the recorded output of step '" + recorded.stepId() + "' has type "
          + name + ", which this application does not have", e);
    }
  }

  /**
   * Executes a step under its lease, kept alive meanwhile, and records the outcome; when
   * {@code recordedByWork}, the work records its own success (a transactional step).
   */
  private <T> Mono<T> execute(StepAcquisition.Execute step, @Nullable JavaType type, StepOptions options,
      Supplier<? extends Mono<? extends T>> supplier, boolean recordedByWork) {
    Duration lease = definition.stepLease();
    Duration every = lease.dividedBy(3);
    Disposable keepAlive = Flux.interval(every, every, runtime.engine().timers())
        .concatMap(tick -> exec.extendStep(step, lease).map(status -> (Object) status).defaultIfEmpty(Boolean.FALSE))
        .subscribe(state -> {
          if (Boolean.FALSE.equals(state)) {
            log.warn("pgqrs lost the lease of step '{}' of run {}; another worker owns the run now",
                step.stepId(), runId());
            interrupt(new Lost());
          } else if (state == RunStatus.CANCELLING) {
            interrupt(new Cancel());
          }
        }, e -> log.debug("pgqrs could not extend the lease of step '{}' of run {}", step.stepId(), runId(), e));
    return Mono.defer(() -> {
          Mono<? extends T> work = supplier.get();
          if (work == null) {
            return Mono.error(new NullPointerException("the supplier of step '" + step.stepId() + "' returned null"));
          }
          return work.<T>map(v -> v);
        })
        .materialize()
        .doFinally(signal -> keepAlive.dispose())
        // Cancelled in flight (the run is cancelled, timed out, or a sibling step parked it): give
        // the lease up so the next execution need not wait for it to expire.
        .doOnCancel(() -> exec.extendStep(step, Duration.ZERO).subscribe(s -> { }, e -> { }))
        .flatMap(signal -> signal.isOnError()
            ? failed(step, options, signal.getThrowable())
            : recordedByWork ? Mono.justOrEmpty(signal.get()) : succeeded(step, type, signal));
  }

  private <T> Mono<T> succeeded(StepAcquisition.Execute step, @Nullable JavaType type, Signal<T> signal) {
    T value = signal.get();
    String json;
    try {
      json = value == null ? null : runtime.toJson(value, "the output of step '" + step.stepId() + "'");
    } catch (SerializationFailedException e) {
      return exec.recordStepFailure(step, WorkflowRuntime.describe(e), null)
          .flatMap(held -> held ? Mono.<T>error(new StepFailedException(step.stepId(), step.attempt(), e.getMessage()))
              : stop(new Lost()));
    }
    return exec.recordOutput(step, json, value == null ? null : value.getClass().getName())
        .flatMap(held -> {
          if (!held) {
            return stop(new Lost());
          }
          if (value == null) {
            return Mono.empty();
          }
          // The stored value read back: the first execution sees exactly what every replay will.
          return type == null ? Mono.just(value) : Mono.fromCallable(() -> runtime.<T>fromJson(json, type,
              "the output of step '" + step.stepId() + "'"));
        });
  }

  private <T> Mono<T> failed(StepAcquisition.Execute step, StepOptions options, @Nullable Throwable error) {
    Throwable e = Objects.requireNonNull(error);
    if (e instanceof RunInterrupted) {
      return Mono.error(e);
    }
    if (e instanceof io.pgqrs.spi.StoreResults.StepLeaseLost) {
      return stop(new Lost());
    }
    String text = WorkflowRuntime.describe(e);
    boolean permanent = e instanceof SerializationFailedException || e instanceof io.pgqrs.ConfigurationException;
    boolean retryable = !permanent && (e instanceof RetryLaterException || options.policy().retries(e));
    if (retryable && step.attempt() < options.maxAttempts()) {
      Duration delay = e instanceof RetryLaterException later ? later.delay() : options.policy().delayAfter(step.attempt());
      log.debug("pgqrs retries step '{}' of run {} in {}: {}", step.stepId(), runId(), delay, text);
      return exec.recordStepFailure(step, text, delay).flatMap(held -> stop(held ? new Park(delay) : new Lost()));
    }
    return exec.recordStepFailure(step, text, null)
        .flatMap(held -> held ? Mono.<T>error(new StepFailedException(step.stepId(), step.attempt(), text))
            : stop(new Lost()));
  }

  // ---------------------------------------------------------------- sleep and signals

  @Override
  public Mono<Void> sleep(Duration duration) {
    Engine.checkNotNegative("duration", duration);
    return acquire(SLEEP, null, (stepId, acquired) -> {
      if (!(acquired instanceof StepAcquisition.Execute step)) {
        return Mono.empty();
      }
      // A sleep begun earlier waits what the store says remains of it and keeps its recorded due time.
      Duration replayed = step.waitRemaining();
      Duration remaining = replayed != null ? replayed : duration;
      if (remaining.isZero() || remaining.isNegative()) {
        return exec.recordOutput(step, null, null).flatMap(held -> held ? Mono.<Void>empty() : stop(new Lost()));
      }
      return exec.recordWaiting(step, replayed != null ? null : duration, null)
          .flatMap(held -> stop(held ? new Park(remaining) : new Lost()));
    });
  }

  @Override
  public <T> Mono<T> awaitSignal(String name, Class<T> type, Duration timeout) {
    Objects.requireNonNull(type, "type");
    Engine.checkNotNegative("timeout", timeout);
    try {
      WorkflowRuntime.checkText("name", name, MAX_STEP_NAME - SIGNAL.length());
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    JavaType javaType = runtime.mapper().constructType(type);
    String timeoutText = "no signal '" + name + "' arrived within " + timeout;
    return acquire(SIGNAL + name, null, (stepId, acquired) -> {
      if (acquired instanceof StepAcquisition.Recorded r) {
        return replay(r, javaType);
      }
      if (acquired instanceof StepAcquisition.Failed f) {
        return Mono.error(new SignalTimeoutException(name, f.error()));
      }
      StepAcquisition.Execute step = (StepAcquisition.Execute) acquired;
      // A wait begun earlier has what the store says remains of its timeout and keeps its deadline.
      Duration replayed = step.waitRemaining();
      Duration remaining = replayed != null ? replayed : timeout;
      return exec.takeSignal(step, name).flatMap(taken -> {
        if (!taken.leaseHeld()) {
          return stop(new Lost());
        }
        String value = taken.valueJson();
        if (value != null) {
          return Mono.fromCallable(() -> runtime.<T>fromJson(value, javaType, "signal '" + name + "'"));
        }
        if (remaining.isZero() || remaining.isNegative()) {
          return exec.recordStepFailure(step, timeoutText, null)
              .flatMap(held -> held ? Mono.<T>error(new SignalTimeoutException(name, timeoutText)) : stop(new Lost()));
        }
        return exec.recordWaiting(step, replayed != null ? null : timeout, name)
            .flatMap(held -> stop(held ? new Park(remaining) : new Lost()));
      });
    });
  }

  // ---------------------------------------------------------------- annotated steps

  @Override
  public <S> S steps(Class<S> api, S target) {
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(target, "target");
    if (!api.isInterface()) {
      throw new InvalidArgumentException("api", api.getName() + " is not an interface");
    }
    for (Method method : api.getMethods()) {
      if (method.isAnnotationPresent(io.pgqrs.workflow.Step.class) && method.getReturnType() != Mono.class) {
        throw new InvalidArgumentException("api", "@Step method " + api.getSimpleName() + "." + method.getName()
            + " must return Mono");
      }
    }
    Object proxy = Proxy.newProxyInstance(api.getClassLoader(), new Class<?>[] {api}, (self, method, args) -> {
      io.pgqrs.workflow.Step step = method.getAnnotation(io.pgqrs.workflow.Step.class);
      if (method.getDeclaringClass() == Object.class || step == null) {
        return invoke(method, target, args);
      }
      String name = step.value().isEmpty() ? method.getName() : step.value();
      StepOptions options = step.maxAttempts() > 0
          ? definition.stepOptions().withMaxAttempts(step.maxAttempts()) : definition.stepOptions();
      JavaType type = method.getGenericReturnType() instanceof ParameterizedType p
          ? runtime.mapper().constructType(p.getActualTypeArguments()[0])
          : runtime.mapper().constructType(Object.class);
      return run(name, api.getName() + "." + method.getName(), type, options,
          () -> (Mono<?>) invoke(method, target, args));
    });
    return api.cast(proxy);
  }

  private static @Nullable Object invoke(Method method, Object target, Object @Nullable [] args) {
    try {
      return method.invoke(target, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(cause);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "RunContext[run=" + runId() + ", workflow=" + workflow() + "]";
  }
}
