package io.pgqrs.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.ChildOptions;
import io.pgqrs.workflow.ChildWorkflowFailedException;
import io.pgqrs.workflow.NondeterminismException;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.SignalTimeoutException;
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
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.util.context.ContextView;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * The context of one execution of a run's body: step identities, steps replayed from the history
 * read when the run was begun or executed and recorded under the run's lease, sleeps and signal
 * waits, the order in which step results are delivered, and the interruption that ends this
 * execution when the run must park or stop.
 *
 * <p>Identities are given at call time: a step's position is the next number of its scope, its
 * readable id its name with a per-name counter. The scope is the one current on the calling
 * thread: set by {@link #scope}, and during the delivery of a step's result to the step's own
 * scope, so continuations stay in their branch's scope. Results are delivered through
 * {@link CompletionOrder} in recorded order, so continuations call their steps in the same order
 * on every execution.
 */
final class DefaultRunContext implements RunContext {

  private static final Logger log = LoggerFactory.getLogger(DefaultRunContext.class);
  private static final int MAX_STEP_NAME = 200;
  private static final int MAX_SCOPE_KEY = 100;
  private static final int MAX_CHANGE_ID = 150;
  private static final String SLEEP = "pgqrs.sleep";
  private static final String SIGNAL = "pgqrs.signal.";
  private static final String PATCH = "pgqrs.patch.";
  private static final String CHILD = "pgqrs.child.";
  private static final String CHILD_RESULT = "pgqrs.child-result";
  /** The signal, named for the child run, by which a finished child wakes its waiting parent. */
  static final String CHILD_SIGNAL = "pgqrs.child-finished.";
  /** The name prefix of the steps that set events. */
  static final String EVENT = "pgqrs.event.";
  private static final String ROOT = "";

  /** The Reactor context key of the innermost {@link #scope} a step is subscribed in. */
  private static final String SCOPE_KEY = "pgqrs.workflow.scope";

  /** A scope, and the run context it belongs to (runs may nest in one pipeline). */
  private record ScopeRef(DefaultRunContext context, String path) {}

  /** Why this execution of the body ends early. */
  sealed interface Interrupt permits Park, Pause, Cancel, TimedOut, Lost, Finished, Diverged {}

  /**
   * Park the run for a while (counted by the store's clock): a sleep, a retry, a signal wait.
   */
  record Park(Duration after) implements Interrupt {}

  /** The run was paused. */
  record Pause() implements Interrupt {}

  /** The run is being cancelled. */
  record Cancel() implements Interrupt {}

  /** The run's deadline passed. */
  record TimedOut() implements Interrupt {}

  /** The run's lease was lost: another worker owns this run now. */
  record Lost() implements Interrupt {}

  /** The run finished or disappeared meanwhile. */
  record Finished() implements Interrupt {}

  /** The history was written by different code: the run is paused with this error. */
  record Diverged(NondeterminismException error) implements Interrupt {}

  /** Ends a body's pipeline; carries no stack trace, since it is control flow. */
  static final class RunInterrupted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RunInterrupted(Interrupt reason) {
      super("workflow run interrupted: " + reason, null, false, false);
    }
  }

  /** A step's identity: its position, readable id and scope. */
  record Identity(String position, String stepId, String scope) {}

  private final WorkflowRuntime runtime;
  private final DefaultRunExecution exec;
  private final WorkflowDefinition<?, ?> definition;
  private final CompletionOrder order;
  /** The execution's serial executor: the body is subscribed, and every step result delivered, on it. */
  private final SerialExecutor serialExecutor;
  /** The serial executor as a scheduler, for subscribeOn. */
  private final reactor.core.scheduler.Scheduler serial;
  private final Map<String, String> callsites = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> positions = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final AtomicReference<@Nullable Interrupt> interruption = new AtomicReference<>();
  private final Sinks.One<Interrupt> interrupts = Sinks.one();

  DefaultRunContext(WorkflowRuntime runtime, DefaultRunExecution exec, WorkflowDefinition<?, ?> definition) {
    this.runtime = runtime;
    this.exec = exec;
    this.definition = definition;
    this.serialExecutor = new SerialExecutor(reactor.core.scheduler.Schedulers.parallel());
    this.serial = reactor.core.scheduler.Schedulers.fromExecutor(serialExecutor);
    this.order = new CompletionOrder(exec.run().id(), exec.history().stream()
        .filter(r -> r.status() == StepStatus.SUCCESS || r.status() == StepStatus.ERROR)
        .map(StoreResults.StepRecord::completion)
        .toList(), runtime.engine().timers(), serialExecutor);
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

  /** The serial scheduler the body must be subscribed on (see {@link CompletionOrder}). */
  reactor.core.scheduler.Scheduler serial() {
    return serial;
  }

  /** The execution ended: no more deliveries. */
  void close() {
    order.close();
    serialExecutor.close();
    serial.dispose();
  }

  private RunInterrupted stopWith(Interrupt reason) {
    interrupt(reason);
    return new RunInterrupted(Objects.requireNonNull(interruption.get()));
  }

  /** Why a record that was not written ends this execution. */
  private static Interrupt notWritten(StoreResults.StepWritten written) {
    RunStatus status = written.runStatus();
    if (status == null || status.isFinished()) {
      return new Finished();
    }
    return new Lost();
  }

  /** A run status seen by a record that this execution must stop for, else null. */
  private static @Nullable Interrupt stopFor(@Nullable RunStatus status) {
    if (status == null || status.isFinished()) {
      return new Finished();
    }
    return switch (status) {
      case PAUSED -> new Pause();
      case CANCELLING -> new Cancel();
      default -> null;
    };
  }

  // ---------------------------------------------------------------- identities

  /** The scope a step subscribed with this context view is in: the innermost {@link #scope}, else the root. */
  private String scopeOf(ContextView view) {
    ScopeRef ref = view.getOrDefault(SCOPE_KEY, null);
    return ref != null && ref.context() == this ? ref.path() : ROOT;
  }

  /**
   * A step's identity, given when the step is first subscribed (later subscriptions of the same
   * {@code Mono} are the same step).
   */
  private final class LazyIdentity {

    private final String name;
    private final @Nullable String site;
    private volatile @Nullable Identity identity;

    LazyIdentity(String name, @Nullable String site) {
      this.name = name;
      this.site = site;
    }

    Identity resolve(ContextView view) {
      Identity known = identity;
      if (known != null) {
        return known;
      }
      synchronized (this) {
        if (identity == null) {
          identity = identify(name, site, scopeOf(view));
        }
        return Objects.requireNonNull(identity);
      }
    }
  }

  private static void checkName(@Nullable String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_STEP_NAME || name.indexOf('#') >= 0) {
      throw new InvalidArgumentException("name", "a step name must be 1 to " + MAX_STEP_NAME
          + " characters without '#', got " + (name == null ? "null" : "'" + name + "'"));
    }
    StoredText.check("name", name);
  }

  /**
   * The step's identity, given at its first subscription: the next position of its scope, and its
   * name with a per-name counter ({@code name#n} from the second step of that name on).
   */
  private Identity identify(String name, @Nullable String site, String scope) {
    checkName(name);
    String key = scope + "\u0000" + name;
    if (site != null) {
      String first = callsites.putIfAbsent(key, site);
      if (first != null && !first.equals(site)) {
        throw new StepConflictException(name, first, site);
      }
    }
    int k = positions.computeIfAbsent(scope, s -> new AtomicInteger()).incrementAndGet();
    int n = calls.computeIfAbsent(key, s -> new AtomicInteger()).incrementAndGet();
    return identity(scope, k, name, n);
  }

  private static Identity identity(String scope, int position, String name, int call) {
    String prefix = scope.isEmpty() ? "" : scope + "/";
    return new Identity(prefix + position, prefix + (call == 1 ? name : name + "#" + call), scope);
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

  /**
   * The record at the step's position, if any; a record of another step there means the history
   * was written by different code.
   */
  private StoreResults.@Nullable StepRecord recorded(Identity id) {
    StoreResults.StepRecord r = exec.recordAt(id.position());
    if (r == null || r.status() == StepStatus.RUNNING) {
      return null;
    }
    if (!r.stepId().equals(id.stepId())) {
      throw new NondeterminismException(runId(), id.position(), r.stepId(), id.stepId());
    }
    return r;
  }

  @Override
  public <T> Mono<T> scope(String key, Supplier<? extends Mono<T>> branch) {
    Objects.requireNonNull(branch, "branch");
    if (key == null || key.isEmpty() || key.length() > MAX_SCOPE_KEY || key.indexOf('/') >= 0
        || key.indexOf('#') >= 0) {
      return Mono.error(new InvalidArgumentException("key", "a scope key must be 1 to " + MAX_SCOPE_KEY
          + " characters without '/' or '#', got " + (key == null ? "null" : "'" + key + "'")));
    }
    try {
      StoredText.check("key", key);
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    Mono<T> built = branch.get();
    if (built == null) {
      return Mono.error(new NullPointerException("the branch of scope '" + key + "' returned null"));
    }
    return Mono.deferContextual(view -> {
      String parent = scopeOf(view);
      String path = parent.isEmpty() ? key : parent + "/" + key;
      return built.contextWrite(c -> c.put(SCOPE_KEY, new ScopeRef(this, path)));
    });
  }

  // ---------------------------------------------------------------- delivering results

  /** Delivers a step's result in completion order, with the step's scope current meanwhile. */
  private <T> void deliver(Identity id, int completion, MonoSink<T> sink, @Nullable T value, @Nullable Throwable error) {
    order.deliver(completion, () -> emit(sink, value, error));
  }

  private static <T> void emit(MonoSink<T> sink, @Nullable T value, @Nullable Throwable error) {
    if (error != null) {
      sink.error(error);
    } else if (value == null) {
      sink.success();
    } else {
      sink.success(value);
    }
  }

  private StoreParams.RecordStep record(Identity id, StepStatus status, @Nullable String json, @Nullable String type,
      @Nullable String error, int attempts, @Nullable Duration wakeAfter, @Nullable String awaiting, int completion,
      Duration ranFor) {
    return new StoreParams.RecordStep(runId(), exec.lease(), id.position(), id.stepId(), status, json, type, error,
        attempts, wakeAfter, awaiting, completion, ranFor);
  }

  /** What a step-like {@code Mono} does once subscribed, given its identity and record. */
  @FunctionalInterface
  private interface Subscribed<T> {
    void run(Identity id, StoreResults.@Nullable StepRecord recorded, MonoSink<T> sink);
  }

  /**
   * A step-like {@code Mono}: when subscribed, its identity is given, an interrupted execution
   * fails it, and a history written by other code at its position diverges the run; otherwise
   * {@code body} goes on with the record found there (or null).
   */
  private <T> Mono<T> subscribed(LazyIdentity lazy, Subscribed<T> body) {
    return Mono.create(sink -> {
      Identity id;
      try {
        id = lazy.resolve(sink.contextView());
      } catch (RuntimeException e) {
        sink.error(e);
        return;
      }
      Interrupt early = interruption.get();
      if (early != null) {
        sink.error(new RunInterrupted(early));
        return;
      }
      StoreResults.StepRecord r;
      try {
        r = recorded(id);
      } catch (NondeterminismException e) {
        sink.error(stopWith(new Diverged(e)));
        return;
      }
      if (!exec.holdsRecords()) {
        body.run(id, r, sink);
        return;
      }
      // The barrier: records held for steps that ended before this one are written, and what the
      // store said of the run is heeded, before this step does anything. A crash inside this step
      // then re-runs this step alone, whatever branch the held steps were in.
      exec.flushHeld().map(written -> java.util.Optional.ofNullable(stopAfter(written)))
          .defaultIfEmpty(java.util.Optional.empty())
          .subscribe(stop -> {
            if (stop.isPresent()) {
              sink.error(stopWith(stop.get()));
              return;
            }
            Interrupt meanwhile = interruption.get();
            if (meanwhile != null) {
              sink.error(new RunInterrupted(meanwhile));
              return;
            }
            serialExecutor.execute(() -> body.run(id, r, sink));
          }, sink::error);
    });
  }

  /**
   * A step: the identity is given now; when subscribed, the step replays from the history or is
   * executed by {@code execution}.
   */
  private <T> Mono<T> step(LazyIdentity lazy, @Nullable JavaType type, StepExecution<T> execution) {
    return subscribed(lazy, (id, r, sink) -> {
      int attempt = 1;
      if (r != null) {
        switch (r.status()) {
          case SUCCESS -> {
            T value;
            try {
              value = replayValue(r, type);
            } catch (SerializationFailedException e) {
              sink.error(e);
              return;
            }
            deliver(id, r.completion(), sink, value, null);
            return;
          }
          case ERROR -> {
            deliver(id, r.completion(), sink, null, new StepFailedException(id.stepId(), r.attempts(),
                r.error() == null ? "" : r.error()));
            return;
          }
          case RETRY -> {
            Duration wait = r.untilWake();
            if (wait != null && !wait.isZero() && !wait.isNegative()) {
              sink.error(stopWith(new Park(wait)));
              return;
            }
            attempt = r.attempts() + 1;
          }
          default -> attempt = r.attempts() + 1;
        }
      }
      AtomicInteger drawn = new AtomicInteger();
      Disposable work = execution.execute(id, attempt, sink, drawn);
      sink.onCancel(() -> {
        work.dispose();
        int n = drawn.getAndSet(-1);
        if (n > 0) {
          order.giveUp(n);
        }
      });
    });
  }

  /** How a new step runs: executes, records and delivers its result, or stops the execution. */
  @FunctionalInterface
  private interface StepExecution<T> {
    Disposable execute(Identity id, int attempt, MonoSink<T> sink, AtomicInteger drawn);
  }

  private int draw(AtomicInteger drawn) {
    int n = order.draw();
    if (!drawn.compareAndSet(0, n)) {
      // Cancelled meanwhile: nothing will be delivered under this number.
      order.giveUp(n);
    }
    return n;
  }

  private void undraw(AtomicInteger drawn, int n) {
    if (drawn.compareAndSet(n, 0)) {
      order.giveUp(n);
    }
  }

  private <T> @Nullable T replayValue(StoreResults.StepRecord r, @Nullable JavaType type) {
    String output = r.outputJson();
    if (output == null || "null".equals(output)) {
      return null;
    }
    return runtime.<T>fromJson(output, type != null ? type : recordedType(r),
        "the recorded output of step '" + r.stepId() + "'");
  }

  private JavaType recordedType(StoreResults.StepRecord recorded) {
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
    return run(name, site, type, options, identity -> supplier.get());
  }

  /** A step whose body is given its identity (a child's idempotency key derives from it). */
  private <T> Mono<T> run(String name, @Nullable String site, @Nullable JavaType type, StepOptions options,
      Function<Identity, ? extends Mono<? extends T>> supplier) {
    try {
      checkName(name);
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    return step(new LazyIdentity(name, site), type, (identity, attempt, sink, drawn) -> {
      long started = System.nanoTime();
      return Mono.defer(() -> {
            Mono<? extends T> work = supplier.apply(identity);
            if (work == null) {
              return Mono.error(new NullPointerException("the supplier of step '" + identity.stepId() + "' returned null"));
            }
            Telemetry telemetry = runtime.engine().telemetry();
            Mono<T> body = work.<T>map(v -> v);
            return telemetry == Telemetry.NONE ? body
                : telemetry.aroundStep(definition.name(), runId(), identity.stepId(), attempt, body);
          })
          .materialize()
          .flatMap(signal -> signal.isOnError()
              ? failed(identity, attempt, options, signal.getThrowable(), since(started), sink, drawn)
              : succeeded(identity, attempt, type, signal.get(), since(started), sink, drawn))
          .subscribe(v -> { }, sink::error);
    });
  }

  /** Tells the engine's telemetry that a step's body ended as {@code outcome} and its record was written. */
  private void stepEnded(String outcome, Duration ran) {
    runtime.engine().telemetry().stepFinished(definition.name(), outcome, ran);
  }

  private static Duration since(long startedNanos) {
    return Duration.ofNanos(Math.max(0, System.nanoTime() - startedNanos));
  }

  private <T> Mono<Void> succeeded(Identity id, int attempt, @Nullable JavaType type, @Nullable T value, Duration ran,
      MonoSink<T> sink, AtomicInteger drawn) {
    String json;
    try {
      json = value == null ? null : runtime.toJson(value, "the output of step '" + id.stepId() + "'");
    } catch (SerializationFailedException e) {
      return failedForGood(id, attempt, WorkflowRuntime.describe(e), e.getMessage(), ran, sink, drawn);
    }
    T out;
    try {
      // The stored value read back: the first execution sees exactly what every replay will.
      out = value == null || type == null || json == null ? value
          : runtime.<T>fromJson(json, type, "the output of step '" + id.stepId() + "'");
    } catch (SerializationFailedException e) {
      sink.error(e);
      return Mono.empty();
    }
    int n = draw(drawn);
    exec.hold(record(id, StepStatus.SUCCESS, json, value == null ? null : value.getClass().getName(), null, attempt,
        null, null, n, ran), () -> stepEnded("success", ran));
    deliverHeld(n, sink, out, null);
    return Mono.empty();
  }

  /**
   * Delivers the result of a step whose record is held (see {@link DefaultRunExecution#hold}). The
   * body's continuation runs inside the delivery: if the body ends there, its finish takes the
   * held record into the same statement; otherwise the record is written as soon as the delivery
   * returns, and any step subscribed meanwhile waits for it ({@link #subscribed}).
   */
  private <T> void deliverHeld(int completion, MonoSink<T> sink, @Nullable T value, @Nullable Throwable error) {
    order.deliver(completion, () -> {
      emit(sink, value, error);
      if (exec.holdsRecords()) {
        exec.flushHeld().subscribe(written -> {
          Interrupt stop = stopAfter(written);
          if (stop != null) {
            interrupt(stop);
          }
        }, e -> log.debug("pgqrs run {}: a held step record was not written: {}", runId(), e.toString()));
      }
    });
  }

  /** What a written or refused record means for this execution: a reason to stop, or null to go on. */
  private static @Nullable Interrupt stopAfter(StoreResults.StepWritten written) {
    return written.written() ? stopFor(written.runStatus()) : notWritten(written);
  }

  private <T> Mono<Void> failed(Identity id, int attempt, StepOptions options, @Nullable Throwable error, Duration ran,
      MonoSink<T> sink, AtomicInteger drawn) {
    Throwable e = Objects.requireNonNull(error);
    if (e instanceof RunInterrupted) {
      sink.error(e);
      return Mono.empty();
    }
    if (e instanceof StoreResults.StepLeaseLost) {
      sink.error(stopWith(new Lost()));
      return Mono.empty();
    }
    String text = WorkflowRuntime.describe(e);
    boolean permanent = e instanceof SerializationFailedException || e instanceof ConfigurationException;
    boolean retryable = !permanent && (e instanceof RetryLaterException || options.policy().retries(e));
    if (retryable && attempt < options.maxAttempts()) {
      Duration delay = e instanceof RetryLaterException later ? later.delay() : options.policy().delayAfter(attempt);
      log.debug("pgqrs retries step '{}' of run {} in {}: {}", id.stepId(), runId(), delay, text);
      return exec.write(record(id, StepStatus.RETRY, null, null, text, attempt, delay, null, 0, ran))
          .doOnNext(written -> {
            if (written.written()) {
              stepEnded("retry", ran);
            }
            sink.error(stopWith(written.written() ? new Park(delay) : notWritten(written)));
          })
          .then();
    }
    return failedForGood(id, attempt, text, text, ran, sink, drawn);
  }

  private <T> Mono<Void> failedForGood(Identity id, int attempt, String recordedText, @Nullable String message,
      Duration ran, MonoSink<T> sink, AtomicInteger drawn) {
    int n = draw(drawn);
    exec.hold(record(id, StepStatus.ERROR, null, null, recordedText, attempt, null, null, n, ran),
        () -> stepEnded("error", ran));
    deliverHeld(n, sink, null, new StepFailedException(id.stepId(), attempt, message == null ? recordedText : message));
    return Mono.empty();
  }

  @Override
  public <T> Mono<T> transactionalStep(String name, Class<T> type,
      Function<io.r2dbc.spi.Connection, ? extends Mono<? extends T>> work) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(work, "work");
    JavaType javaType = runtime.mapper().constructType(type);
    try {
      checkName(name);
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    StepOptions options = definition.stepOptions();
    return step(new LazyIdentity(name, callsite()), javaType, (identity, attempt, sink, drawn) -> {
      String what = "the output of step '" + identity.stepId() + "'";
      // The JSON recorded in the transaction, read back so the first execution sees what replays will.
      AtomicReference<@Nullable String> recorded = new AtomicReference<>();
      int n = draw(drawn);
      StoreParams.RecordStep record = record(identity, StepStatus.SUCCESS, null, null, null, attempt, null, null, n,
          Duration.ZERO);
      long started = System.nanoTime();
      return runtime.driver().transactionalStep(record, null,
              connection -> Mono.defer(() -> work.apply((io.r2dbc.spi.Connection) connection)).<T>map(v -> v),
              value -> {
                String json = runtime.toJson(value, what);
                recorded.set(json);
                return json;
              })
          .materialize()
          .flatMap(signal -> {
            if (signal.isOnError()) {
              undraw(drawn, n);
              return failed(identity, attempt, options, signal.getThrowable(), since(started), sink, drawn);
            }
            String json = recorded.get();
            exec.remember(new StoreResults.StepRecord(identity.position(), identity.stepId(), StepStatus.SUCCESS, json,
                signal.get() == null ? null : signal.get().getClass().getName(), null, attempt, null, null, n));
            try {
              T out = json == null ? null : runtime.<T>fromJson(json, javaType, what);
              deliver(identity, n, sink, out, null);
            } catch (SerializationFailedException e) {
              undraw(drawn, n);
              sink.error(e);
            }
            return Mono.<Void>empty();
          })
          .subscribe(v -> { }, sink::error);
    });
  }

  // ---------------------------------------------------------------- sleep, signals, patches

  @Override
  public Mono<Void> sleep(Duration duration) {
    Engine.checkNotNegative("duration", duration);
    LazyIdentity lazy = new LazyIdentity(SLEEP, null);
    return subscribed(lazy, (id, r, sink) -> {
      if (r != null && (r.status() == StepStatus.SUCCESS || r.status() == StepStatus.ERROR)) {
        deliver(id, r.completion(), sink, null, null);
        return;
      }
      // A sleep begun earlier waits what the store says remains of it and keeps its recorded due time.
      boolean replayed = r != null && r.status() == StepStatus.WAITING;
      Duration remaining = replayed ? nonNegative(r.untilWake()) : duration;
      if (!remaining.isZero() && !remaining.isNegative()) {
        if (replayed) {
          sink.error(stopWith(new Park(remaining)));
          return;
        }
        exec.write(record(id, StepStatus.WAITING, null, null, null, 0, duration, null, 0, Duration.ZERO))
            .subscribe(written -> sink.error(stopWith(written.written() ? new Park(remaining) : notWritten(written))),
                sink::error);
        return;
      }
      completeBy(id, n -> exec.write(record(id, StepStatus.SUCCESS, null, null, null, 0, null, null, n,
          Duration.ZERO)), sink);
    });
  }

  /**
   * Ends an empty step (a sleep that is over, an event set) by the record {@code write} makes with
   * the completion number drawn for it, then delivers the step in that order, or stops this
   * execution if the record was not written or the run must stop. Cancelling disposes the write
   * and gives the number up.
   */
  private void completeBy(Identity id, java.util.function.IntFunction<Mono<StoreResults.StepWritten>> write,
      MonoSink<Void> sink) {
    AtomicInteger drawn = new AtomicInteger();
    int n = draw(drawn);
    Disposable writing = write.apply(n)
        .subscribe(written -> {
          Interrupt stop = written.written() ? stopFor(written.runStatus()) : notWritten(written);
          if (stop != null) {
            undraw(drawn, n);
            sink.error(stopWith(stop));
          } else {
            deliver(id, n, sink, null, null);
          }
        }, e -> {
          undraw(drawn, n);
          sink.error(e);
        });
    sink.onCancel(() -> {
      writing.dispose();
      undraw(drawn, n);
    });
  }

  private static Duration nonNegative(@Nullable Duration d) {
    return d == null || d.isNegative() ? Duration.ZERO : d;
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
    LazyIdentity lazy = new LazyIdentity(SIGNAL + name, null);
    JavaType javaType = runtime.mapper().constructType(type);
    String timeoutText = "no signal '" + name + "' arrived within " + timeout;
    return subscribed(lazy, (id, r, sink) -> {
      if (r != null && r.status() == StepStatus.SUCCESS) {
        try {
          deliver(id, r.completion(), sink, replayValue(r, javaType), null);
        } catch (SerializationFailedException e) {
          sink.error(e);
        }
        return;
      }
      if (r != null && r.status() == StepStatus.ERROR) {
        deliver(id, r.completion(), sink, null, new SignalTimeoutException(name, r.error() == null ? timeoutText : r.error()));
        return;
      }
      // A wait begun earlier has what the store says remains of its timeout and keeps its deadline.
      boolean replayed = r != null && r.status() == StepStatus.WAITING;
      Duration remaining = replayed ? nonNegative(r.untilWake()) : timeout;
      AtomicInteger drawn = new AtomicInteger();
      Disposable take = takeSignal(id, name, sink, drawn,
          (value, n) -> deliver(id, n, sink, runtime.<T>fromJson(value, javaType, "signal '" + name + "'"), null),
          () -> {
            if (remaining.isZero() || remaining.isNegative()) {
              int failedAs = draw(drawn);
              return exec.write(record(id, StepStatus.ERROR, null, null, timeoutText, 0, null, null, failedAs,
                      Duration.ZERO))
                  .doOnNext(written -> {
                    if (written.written()) {
                      deliver(id, failedAs, sink, null, new SignalTimeoutException(name, timeoutText));
                    } else {
                      undraw(drawn, failedAs);
                      sink.error(stopWith(notWritten(written)));
                    }
                  })
                  .then();
            }
            if (replayed) {
              sink.error(stopWith(new Park(remaining)));
              return Mono.empty();
            }
            return exec.write(record(id, StepStatus.WAITING, null, null, null, 0, timeout, name, 0, Duration.ZERO))
                .doOnNext(written -> sink.error(stopWith(written.written() ? new Park(remaining) : notWritten(written))))
                .then();
          });
      sink.onCancel(() -> {
        take.dispose();
        undraw(drawn, drawn.get());
      });
    });
  }

  /**
   * Takes the oldest unconsumed signal {@code name} as the step's record, under the run's lease: with
   * one, {@code taken} gets its value and the completion number it was recorded with; with none,
   * the number is given up and {@code none} goes on. A lost lease stops the execution; an error
   * (also one thrown by {@code taken}) fails {@code sink}.
   */
  private Disposable takeSignal(Identity id, String name, MonoSink<?> sink, AtomicInteger drawn,
      java.util.function.ObjIntConsumer<String> taken, Supplier<Mono<Void>> none) {
    int n = draw(drawn);
    return runtime.driver()
        .takeSignal(new StoreParams.TakeSignal(runId(), exec.lease(), id.position(), id.stepId(), name, n))
        .flatMap(result -> {
          if (!result.leaseHeld()) {
            undraw(drawn, n);
            sink.error(stopWith(new Lost()));
            return Mono.<Void>empty();
          }
          String value = result.valueJson();
          if (value != null) {
            exec.remember(new StoreResults.StepRecord(id.position(), id.stepId(), StepStatus.SUCCESS, value, null, null,
                0, null, null, n));
            taken.accept(value, n);
            return Mono.<Void>empty();
          }
          undraw(drawn, n);
          return none.get();
        })
        .subscribe(v -> { }, e -> {
          undraw(drawn, drawn.get());
          sink.error(e);
        });
  }

  @Override
  public Mono<Void> setEvent(String key, Object value) {
    String json;
    try {
      WorkflowRuntime.checkEventKey(key);
      if (value == null) {
        throw new InvalidArgumentException("value", "the value of event '" + key + "' must not be null");
      }
      json = runtime.toJson(value, "the value of event '" + key + "'");
    } catch (RuntimeException e) {
      return Mono.error(e);
    }
    LazyIdentity lazy = new LazyIdentity(EVENT + key, null);
    return subscribed(lazy, (id, r, sink) -> {
      if (r != null && r.status() == StepStatus.SUCCESS) {
        // Set by an earlier execution: nothing is written again.
        deliver(id, r.completion(), sink, null, null);
        return;
      }
      completeBy(id, n -> runtime.driver()
          .setEvent(new StoreParams.SetEvent(runId(), exec.lease(), id.position(), id.stepId(), key, json, n))
          .doOnNext(written -> {
            if (written.written()) {
              exec.remember(new StoreResults.StepRecord(id.position(), id.stepId(), StepStatus.SUCCESS, null, null,
                  null, 0, null, null, n));
              runtime.eventWritten(runId());
            }
          }), sink);
    });
  }

  @Override
  public Mono<Boolean> patched(String changeId) {
    if (changeId == null || changeId.isEmpty() || changeId.length() > MAX_CHANGE_ID || changeId.indexOf('#') >= 0
        || changeId.indexOf('/') >= 0) {
      return Mono.error(new InvalidArgumentException("changeId", "a change id must be 1 to " + MAX_CHANGE_ID
          + " characters without '#' or '/', got " + (changeId == null ? "null" : "'" + changeId + "'")));
    }
    try {
      StoredText.check("changeId", changeId);
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    String marker = PATCH + changeId;
    AtomicReference<@Nullable Boolean> oldPath = new AtomicReference<>();
    LazyIdentity lazy = new LazyIdentity(marker, null);
    Mono<Boolean> newPath = step(lazy, runtime.mapper().constructType(Boolean.class), (identity, attempt, sink, drawn) -> {
      int n = draw(drawn);
      return exec.write(record(identity, StepStatus.SUCCESS, "true", Boolean.class.getName(), null, 0, null, null, n,
              Duration.ZERO))
          .subscribe(written -> {
            Interrupt stop = written.written() ? stopFor(written.runStatus()) : notWritten(written);
            if (stop != null) {
              undraw(drawn, n);
              sink.error(stopWith(stop));
            } else {
              deliver(identity, n, sink, Boolean.TRUE, null);
            }
          }, e -> {
            undraw(drawn, n);
            sink.error(e);
          });
    });
    return Mono.deferContextual(view -> {
      Boolean decided = oldPath.get();
      if (decided == null) {
        synchronized (oldPath) {
          decided = oldPath.get();
          if (decided == null) {
            // Look at the next position without taking it: a run recorded before the change holds
            // another step there, and the old path must find that step at that position.
            String scope = scopeOf(view);
            int nextPosition = positions.computeIfAbsent(scope, k -> new AtomicInteger()).get() + 1;
            int nextCall = calls.computeIfAbsent(scope + "\u0000" + marker, k -> new AtomicInteger()).get() + 1;
            Identity next = identity(scope, nextPosition, marker, nextCall);
            StoreResults.StepRecord there = exec.recordAt(next.position());
            decided = there != null && there.status() != StepStatus.RUNNING && !there.stepId().equals(next.stepId());
            if (!decided) {
              lazy.resolve(view);
            }
            oldPath.set(decided);
          }
        }
      }
      return decided ? Mono.just(false) : newPath;
    });
  }

  // ---------------------------------------------------------------- child runs

  @Override
  public <I, O> Mono<O> child(io.pgqrs.workflow.Workflow<I, O> workflow, I input) {
    return child(workflow, input, ChildOptions.defaults());
  }

  @Override
  public <I, O> Mono<O> child(io.pgqrs.workflow.Workflow<I, O> workflow, I input, ChildOptions options) {
    Objects.requireNonNull(workflow, "workflow");
    Objects.requireNonNull(options, "options");
    JavaType output = runtime.mapper().constructType(workflow.definition().outputType());
    return startChild(workflow, input, options).flatMap(childRunId -> awaitChild(childRunId, output, options));
  }

  @Override
  public <I> Mono<Long> startChild(io.pgqrs.workflow.Workflow<I, ?> workflow, I input, ChildOptions options) {
    Objects.requireNonNull(workflow, "workflow");
    Objects.requireNonNull(options, "options");
    String name = CHILD + workflow.definition().name();
    return run(name, null, runtime.mapper().constructType(Long.class), definition.stepOptions(),
        identity -> {
          if (workflow instanceof DefaultWorkflow<I, ?> own) {
            // The parent is named in the trigger's statement. A replay's trigger finds the child by
            // its key and links it again: a child created before parents were named in the trigger
            // (or by a workflow of another kind) may not be linked yet.
            return own.triggerChild(input, childKey(identity), runId(), options.cancelWithParent())
                .flatMap(t -> t.created() ? Mono.just(t.handle().runId()) : link(t.handle().runId(), options));
          }
          return workflow.trigger(input, childKey(identity)).flatMap(handle -> link(handle.runId(), options));
        });
  }

  /** Names this run as the parent of {@code childRunId}; idempotent. */
  private Mono<Long> link(long childRunId, ChildOptions options) {
    return runtime.driver()
        .linkChildRun(new StoreParams.LinkChildRun(childRunId, runId(), options.cancelWithParent()))
        .thenReturn(childRunId);
  }

  private String childKey(Identity identity) {
    return "child:" + runId() + ":" + identity.position();
  }

  /**
   * Waits for a child's outcome, recorded as a step: a wake-up signal taken (its value the outcome),
   * else the child read and its outcome recorded if it has finished, else a WAITING record that
   * parks this run until the child's finish wakes it or {@code checkEvery} passes.
   */
  private <O> Mono<O> awaitChild(long childRunId, JavaType output, ChildOptions options) {
    LazyIdentity lazy = new LazyIdentity(CHILD_RESULT, null);
    String signal = CHILD_SIGNAL + childRunId;
    return subscribed(lazy, (id, r, sink) -> {
      if (r != null && r.status() == StepStatus.SUCCESS) {
        deliverOutcome(id, r.completion(), sink, r.outputJson(), childRunId, output);
        return;
      }
      Duration untilCheck = r != null && r.status() == StepStatus.WAITING && signal.equals(r.awaiting())
          && !r.signalled() ? r.untilWake() : null;
      if (untilCheck != null && untilCheck.compareTo(Duration.ZERO) > 0) {
        // Recorded waiting for this child, no wake-up pending and its check not due (a fan-out
        // parent woken by another child): nothing to read, it parks again at once.
        runtime.wakeWhenFinished(runId(), childRunId, signal);
        sink.error(stopWith(new Park(untilCheck)));
        return;
      }
      AtomicInteger drawn = new AtomicInteger();
      Supplier<Mono<Void>> readChild = () -> runtime.driver().findRun(childRunId)
          .switchIfEmpty(Mono.error(() -> new io.pgqrs.workflow.RunNotFoundException(childRunId)))
          .flatMap(child -> {
            if (child.status().isFinished()) {
              String outcome = ChildOutcome.of(child);
              int recordedAs = draw(drawn);
              return exec.write(record(id, StepStatus.SUCCESS, outcome, null, null, 0, null, null, recordedAs,
                      Duration.ZERO))
                  .doOnNext(written -> {
                    if (written.written()) {
                      deliverOutcome(id, recordedAs, sink, outcome, childRunId, output);
                    } else {
                      undraw(drawn, recordedAs);
                      sink.error(stopWith(notWritten(written)));
                    }
                  })
                  .then();
            }
            return exec.write(record(id, StepStatus.WAITING, null, null, null, 0, options.checkEvery(), signal, 0,
                    Duration.ZERO))
                .doOnNext(written -> {
                  if (written.written()) {
                    runtime.wakeWhenFinished(runId(), childRunId, signal);
                  }
                  sink.error(stopWith(written.written() ? new Park(options.checkEvery()) : notWritten(written)));
                })
                .then();
          });
      // A wake-up is sent only to a recorded wait: with nothing recorded there is no signal to take.
      Disposable take = r == null
          ? readChild.get().subscribe(v -> { }, e -> {
            undraw(drawn, drawn.get());
            sink.error(e);
          })
          : takeSignal(id, signal, sink, drawn, (value, n) -> deliverOutcome(id, n, sink, value, childRunId, output),
              readChild);
      sink.onCancel(() -> {
        take.dispose();
        undraw(drawn, drawn.get());
      });
    });
  }

  /** Delivers a recorded child outcome: the child's output, or its failure as a typed error. */
  private <O> void deliverOutcome(Identity id, int completion, MonoSink<O> sink, @Nullable String outcomeJson,
      long childRunId, JavaType output) {
    ChildOutcome outcome;
    O value;
    try {
      outcome = ChildOutcome.parse(outcomeJson, childRunId);
      value = outcome.status() == RunStatus.SUCCESS && outcome.outputJson() != null
          && !"null".equals(outcome.outputJson())
          ? runtime.<O>fromJson(outcome.outputJson(), output, "the output of child run " + childRunId) : null;
    } catch (RuntimeException e) {
      sink.error(e);
      return;
    }
    if (outcome.status() == RunStatus.SUCCESS) {
      deliver(id, completion, sink, value, null);
    } else {
      deliver(id, completion, sink, null, new ChildWorkflowFailedException(runId(), childRunId, outcome.status(),
          outcome.error() == null ? "" : outcome.error()));
    }
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
