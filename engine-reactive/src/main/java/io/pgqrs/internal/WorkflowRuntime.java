package io.pgqrs.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.queue.Delivery;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunExecution;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.Runs;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The engine's workflow half: the {@link Runs} facet, JSON conversion, run-finished
 * announcements, and the registry of runs executing in this engine (so an in-process cancel
 * reaches the step in flight at once).
 */
final class WorkflowRuntime implements Runs {

  private static final int MAX_KEY = 255;
  /** A step id is its name (at most 200 characters) with a {@code #n} suffix for a repeated name. */
  private static final int MAX_STEP_ID = 255;
  private static final int MAX_SIGNAL_NAME = 200;
  private static final int MAX_ERROR_TEXT = 4000;
  private static final int MAX_RECORDED_ERROR = 2000;
  /** Rows a statement of a history read (events, signals) asks for. */
  private static final int HISTORY_PAGE = 1000;

  private final Engine engine;
  private final StoreDriver driver;
  private final Map<Long, DefaultRunContext> executing = new ConcurrentHashMap<>();
  private final Map<String, java.util.List<DefaultWorkflowWorker<?, ?>>> localWorkers = new ConcurrentHashMap<>();
  private final BatchedWrites<StoreParams.RecordStep, StoreResults.StepWritten> recorder;
  private final BatchedWrites<StoreParams.FinishRun, StoreResults.RunFinished> finisher;
  private final RunResults results;
  private final RunEvents events;
  /** The parents waiting here for a child, by their wake-up signal and parent: woken when it finishes. */
  private final Map<String, reactor.core.Disposable> childWatches = new ConcurrentHashMap<>();
  /** Runs a local worker took in their trigger statement (the fast path), since the engine started. */
  private final AtomicLong takenByTrigger = new AtomicLong();
  /** Runs a worker began in the claim that took their message, since the engine started. */
  private final AtomicLong begunInClaim = new AtomicLong();

  WorkflowRuntime(Engine engine) {
    this.engine = engine;
    this.driver = engine.driver();
    // One record per step in a batch, one completion per run.
    this.recorder = new BatchedWrites<>(steps -> driver.recordSteps(new StoreParams.RecordSteps(steps, null)),
        (a, b) -> a.runId() == b.runId() && a.stepId().equals(b.stepId()));
    this.finisher = new BatchedWrites<>(runs -> driver.finishRuns(new StoreParams.FinishRuns(runs, null)),
        (a, b) -> a.runId() == b.runId());
    this.results = new RunResults(driver, engine.config().pollInterval(), engine.timers(), executing::containsKey,
        engine.wakeupsEnabled());
    this.events = new RunEvents(driver, engine.config().pollInterval(), engine.timers(),
        runId -> awaitFinished(runId, true), engine.wakeupsEnabled());
  }

  /** Writes step records of the runs executing here, many in one statement when they arrive together. */
  BatchedWrites<StoreParams.RecordStep, StoreResults.StepWritten> recorder() {
    return recorder;
  }

  /** Finishes runs executing here by their leases, many in one statement when they arrive together. */
  BatchedWrites<StoreParams.FinishRun, StoreResults.RunFinished> finisher() {
    return finisher;
  }

  void close() {
    childWatches.values().forEach(reactor.core.Disposable::dispose);
    childWatches.clear();
    results.close();
    events.close();
    watcher.dispose();
  }

  // ---------------------------------------------------------------- local workers (the fast path)

  /** A started worker of this engine offers to execute the runs of its queue that are triggered here. */
  void workerStarted(String queue, DefaultWorkflowWorker<?, ?> worker) {
    localWorkers.compute(queue, (q, list) -> {
      java.util.List<DefaultWorkflowWorker<?, ?>> next = list == null ? new java.util.ArrayList<>() : new java.util.ArrayList<>(list);
      next.add(worker);
      return java.util.List.copyOf(next);
    });
  }

  void workerStopped(String queue, DefaultWorkflowWorker<?, ?> worker) {
    localWorkers.computeIfPresent(queue, (q, list) -> {
      java.util.List<DefaultWorkflowWorker<?, ?>> next = new java.util.ArrayList<>(list);
      next.remove(worker);
      return next.isEmpty() ? null : java.util.List.copyOf(next);
    });
  }

  /** A run was taken by its trigger and handed to a local worker. */
  void takenByTrigger() {
    takenByTrigger.incrementAndGet();
  }

  /** How many runs local workers took in their trigger statement since the engine started. */
  long runsTakenByTrigger() {
    return takenByTrigger.get();
  }

  /** Runs were begun in the claim that took their messages. */
  void begunInClaim(int runs) {
    begunInClaim.addAndGet(runs);
  }

  /** How many runs workers began in the claim that took their message since the engine started. */
  long runsBegunInClaim() {
    return begunInClaim.get();
  }

  /** A slot of a local worker of the queue with room for one more run now, or null. */
  ConsumerSession.@Nullable Slot reserveLocal(String queue) {
    java.util.List<DefaultWorkflowWorker<?, ?>> workers = localWorkers.get(queue);
    if (workers == null) {
      return null;
    }
    for (DefaultWorkflowWorker<?, ?> worker : workers) {
      ConsumerSession.Slot slot = worker.reserve();
      if (slot != null) {
        return slot;
      }
    }
    return null;
  }

  Engine engine() {
    return engine;
  }

  StoreDriver driver() {
    return driver;
  }

  ObjectMapper mapper() {
    return engine.objectMapper();
  }

  // ---------------------------------------------------------------- Runs

  @Override
  public <I, O> Mono<Workflow<I, O>> register(WorkflowDefinition<I, O> definition) {
    Objects.requireNonNull(definition, "definition");
    io.pgqrs.schedule.NewSchedule declared = definition.schedule();
    return driver.registerWorkflow(new StoreParams.RegisterWorkflow(definition.name(),
            definition.version() == null ? null : definition.queue(), engine.config().maxAttempts(), null))
        .then(declared == null ? Mono.empty() : engine.scheduleFacet().declare(declared))
        .thenReturn(new DefaultWorkflow<>(this, definition));
  }

  @Override
  public Mono<RunInfo> get(long runId) {
    return driver.findRun(runId).switchIfEmpty(Mono.error(() -> new RunNotFoundException(runId)));
  }

  @Override
  public Flux<RunInfo> list(RunQuery query) {
    Objects.requireNonNull(query, "query");
    return Flux.defer(() -> {
      Engine.checkLimit("limit", query.limit(), 10_000);
      if (query.workflow() != null) {
        Names.checkQueue(query.workflow());
      }
      return driver.listRuns(new StoreParams.ListRuns(query));
    });
  }

  @Override
  public Flux<StepInfo> steps(long runId) {
    return driver.listSteps(runId);
  }

  @Override
  public Mono<Void> signal(long runId, String name, Object value) {
    return Mono.defer(() -> {
      checkText("name", name, MAX_SIGNAL_NAME);
      String json = toJson(value, "the value of signal '" + name + "'");
      return driver.signalRun(new StoreParams.SignalRun(runId, name, json, null)).then();
    });
  }

  /** The longest event key: its step's name ({@code pgqrs.event.key}) stays within a step name's bound. */
  static final int MAX_EVENT_KEY = 200 - DefaultRunContext.EVENT.length();

  /**
   * Checks an event's key: 1 to {@link #MAX_EVENT_KEY} characters without {@code #}, kept exactly.
   *
   * @throws InvalidArgumentException naming {@code key} otherwise
   */
  static void checkEventKey(@Nullable String key) {
    checkText("key", key, MAX_EVENT_KEY);
    if (key.indexOf('#') >= 0) {
      throw new InvalidArgumentException("key", "an event key must not contain '#', got '" + key + "'");
    }
  }

  @Override
  public <T> Flux<T> events(long runId, String key, Class<T> type) {
    Objects.requireNonNull(type, "type");
    return read(runId, key, type, false);
  }

  @Override
  public <T> Mono<T> event(long runId, String key, Class<T> type) {
    Objects.requireNonNull(type, "type");
    return read(runId, key, type, true).next();
  }

  private <T> Flux<T> read(long runId, String key, Class<T> type, boolean newestOnly) {
    JavaType javaType = mapper().constructType(type);
    return Flux.defer(() -> {
      checkEventKey(key);
      return get(runId).flatMapMany(run -> events.watch(runId, key, newestOnly, run.status().isFinished()))
          .map(event -> Objects.requireNonNull(this.<T>fromJson(event.valueJson(), javaType,
              "event '" + key + "' of run " + runId)));
    });
  }

  @Override
  public Flux<io.pgqrs.workflow.EventInfo> eventHistory(long runId) {
    return get(runId).thenMany(pages(0, after -> driver.listEvents(
            new StoreParams.ListEvents(List.of(runId), List.of(after), HISTORY_PAGE)), StoreResults.RunEvent::seq))
        .map(e -> new io.pgqrs.workflow.EventInfo(e.runId(), e.seq(), e.key(),
            readTree(e.valueJson(), "event '" + e.key() + "' of run " + runId), e.createdAt()));
  }

  @Override
  public Flux<io.pgqrs.workflow.SignalInfo> signals(long runId) {
    return get(runId).thenMany(pages(0, after -> driver.listSignals(
            new StoreParams.ListSignals(runId, after, HISTORY_PAGE)), StoreResults.RunSignal::id))
        .map(g -> new io.pgqrs.workflow.SignalInfo(g.id(), g.runId(), g.name(),
            readTree(g.valueJson(), "signal '" + g.name() + "' of run " + runId), g.sentAt(), g.consumedBy()));
  }

  /**
   * Every row of a keyset-paged read, {@link #HISTORY_PAGE} rows a statement: the next page starts
   * after the last key of a full one.
   */
  private static <R> Flux<R> pages(long after, java.util.function.LongFunction<Flux<R>> page,
      java.util.function.ToLongFunction<R> key) {
    return page.apply(after).collectList().flatMapMany(rows -> rows.size() < HISTORY_PAGE ? Flux.fromIterable(rows)
        : Flux.fromIterable(rows).concatWith(Flux.defer(() -> pages(key.applyAsLong(rows.get(rows.size() - 1)), page, key))));
  }

  private JsonNode readTree(String json, String what) {
    try {
      return mapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new SerializationFailedException(what + " is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A run executing here set an event: this engine's readers of the run look now. */
  void eventWritten(long runId) {
    events.written(runId);
  }

  @Override
  public Mono<RunInfo> pause(long runId) {
    return driver.controlRun(RunTransitions.pause(runId, null));
  }

  /** Pauses a run with the reason recorded as its error (a replay that diverged from its history). */
  Mono<RunInfo> pause(long runId, String reason) {
    return driver.controlRun(RunTransitions.pause(runId, reason));
  }

  @Override
  public Mono<RunInfo> resume(long runId) {
    return driver.controlRun(RunTransitions.resume(runId));
  }

  @Override
  public Mono<RunInfo> restart(long runId) {
    return driver.findRun(runId)
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(runId)))
        .flatMap(run -> driver.restartRun(new StoreParams.RestartRun(runId, RunTransitions.RESTART,
            io.pgqrs.workflow.WorkflowDefinition.queueOf(run.workflow(), run.version()), null)))
        .doOnNext(run -> results.restarted(runId));
  }

  @Override
  public Mono<RunInfo> fork(long runId, String fromStep) {
    return Mono.defer(() -> {
      checkText("fromStep", fromStep, MAX_STEP_ID);
      return driver.findRun(runId)
          .switchIfEmpty(Mono.error(() -> new RunNotFoundException(runId)))
          .flatMap(run -> driver.forkRun(new StoreParams.ForkRun(runId, fromStep, RunTransitions.FORKABLE,
              io.pgqrs.workflow.WorkflowDefinition.queueOf(run.workflow(), run.version()), null)));
    });
  }

  /**
   * A parent run parked waiting for a child: when the child finishes (as this engine's result
   * waiter learns it), the parent is sent the child's outcome as the signal {@code signal}, which
   * makes it due and which its wait step takes. Best-effort: a parent not woken so (this engine
   * stopped) looks at the child itself when its wait's check interval passes.
   */
  void wakeWhenFinished(long parentRunId, long childRunId, String signal) {
    String key = parentRunId + "/" + signal;
    reactor.core.Disposable.Swap slot = reactor.core.Disposables.swap();
    if (childWatches.putIfAbsent(key, slot) != null) {
      return;
    }
    // A finish seen in this engine carries what it wrote; one heard of by notification is read.
    slot.update(awaitFinished(childRunId, true)
        .flatMap(finished -> Mono.justOrEmpty(ChildOutcome.of(finished))
            .switchIfEmpty(driver.findRun(childRunId).map(ChildOutcome::of)))
        .flatMap(outcome -> driver.signalRun(new StoreParams.SignalRun(parentRunId, signal, outcome, null)))
        .doFinally(s -> childWatches.remove(key, slot))
        .subscribe(v -> { }, e -> org.slf4j.LoggerFactory.getLogger(WorkflowRuntime.class)
            .debug("pgqrs could not wake run {} for its child {}: {}", parentRunId, childRunId, e.toString())));
  }

  @Override
  public Mono<RunInfo> cancel(long runId, String reason) {
    return Mono.defer(() -> {
      checkText("reason", reason, MAX_ERROR_TEXT);
      return driver.controlRun(RunTransitions.cancel(runId, reason));
    }).flatMap(run -> cancelChildren(runId).thenReturn(run)).doOnNext(run -> {
      if (run.status() == RunStatus.CANCELLED) {
        announce(Finished.of(run));
      } else if (run.status() == RunStatus.CANCELLING) {
        DefaultRunContext ctx = executing.get(runId);
        if (ctx != null) {
          ctx.interrupt(new DefaultRunContext.Cancel());
        }
      }
    });
  }

  /**
   * Cancels the unfinished children a cancelled run's cancel cancels, and theirs in turn. Run after
   * the parent's cancel committed; a cancel issued again (the parent's cancel is idempotent) cancels
   * what a crash in between left.
   */
  private Mono<Void> cancelChildren(long parentRunId) {
    return driver.childrenCancelledWithParent(parentRunId)
        .concatMap(child -> cancel(child, "parent run " + parentRunId + " was cancelled")
            .onErrorResume(RunStateException.class, e -> Mono.empty()))
        .then();
  }

  /**
   * How a run ended, as far as a waiter needs it. A null status means "it finished, read it": the
   * announcer did not know the whole outcome (a cancel's reason, say).
   */
  record Finished(long runId, @Nullable RunStatus status, @Nullable String outputJson, @Nullable String error) {

    static Finished of(RunInfo run) {
      return new Finished(run.id(), run.status(), run.output() == null ? null : run.output().toString(), run.error());
    }
  }

  @Override
  public Mono<RunExecution> begin(Delivery delivery) {
    Objects.requireNonNull(delivery, "delivery");
    return Mono.defer(() -> {
      if (!(delivery instanceof DefaultDelivery d)) {
        return Mono.error(new InvalidArgumentException("delivery", "the delivery must come from a consumer of this store"));
      }
      return beginRun(d);
    });
  }

  Mono<RunExecution> beginRun(DefaultDelivery delivery) {
    JsonNode runId = delivery.message().payload().get("run_id");
    if (runId == null || !runId.canConvertToLong()) {
      return Mono.error(new InvalidArgumentException("delivery",
          "message " + delivery.message().id() + " is not a workflow trigger message (no run_id)"));
    }
    long id = runId.asLong();
    return driver.beginRun(new StoreParams.BeginRun(id, RunTransitions.BEGIN, null))
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(id)))
        .flatMap(begun -> execution(delivery, begun));
  }

  /** The execution of a run begun for a delivery, refused when the run is not one of the delivery's queue. */
  Mono<RunExecution> execution(DefaultDelivery delivery, StoreResults.RunBegun begun) {
    return servedBy(begun.run(), delivery.message().queue())
        ? Mono.just((RunExecution) new DefaultRunExecution(this, delivery, begun))
        : Mono.error(new InvalidArgumentException("delivery", "run " + begun.run().id() + " belongs to workflow '"
            + begun.run().workflow() + "', not to queue '" + delivery.message().queue() + "'"));
  }

  /** Whether a run's message belongs on this queue: its workflow's own, or its version's. */
  static boolean servedBy(RunInfo run, String queue) {
    return queue.equals(io.pgqrs.workflow.WorkflowDefinition.queueOf(run.workflow(), run.version()));
  }

  // ---------------------------------------------------------------- executing runs

  void executing(long runId, DefaultRunContext ctx) {
    executing.put(runId, ctx);
    watchExecuting();
  }

  private final java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean();
  private final reactor.core.Disposable.Swap watcher = reactor.core.Disposables.swap();

  /**
   * Watches the runs executing here for a pause or cancel from another process: one query per poll
   * interval for all of them, so a long step learns of it without waiting for its own record (the
   * run lease has no per-step keep-alive that could tell it). In-process controls interrupt at once.
   */
  private void watchExecuting() {
    if (!watching.compareAndSet(false, true)) {
      return;
    }
    Duration every = engine.config().pollInterval();
    watcher.update(Flux.interval(every, every, engine.timers())
        .onBackpressureDrop()
        .filter(t -> !executing.isEmpty())
        .concatMap(t -> Flux.fromIterable(new java.util.ArrayList<>(executing.keySet()))
            .buffer(1000)
            .concatMap(driver::findRuns)
            .doOnNext(run -> {
              DefaultRunContext ctx = executing.get(run.id());
              if (ctx == null) {
                return;
              }
              switch (run.status()) {
                case CANCELLING -> ctx.interrupt(new DefaultRunContext.Cancel());
                case PAUSED -> ctx.interrupt(new DefaultRunContext.Pause());
                case SUCCESS, ERROR, CANCELLED -> ctx.interrupt(new DefaultRunContext.Finished());
                default -> { }
              }
            })
            .onErrorResume(e -> Mono.empty()))
        .subscribe());
  }

  void finishedExecuting(long runId, DefaultRunContext ctx) {
    executing.remove(runId, ctx);
  }

  /**
   * An execution here ended because the run was finished or taken elsewhere: its waiters, which
   * skipped the run's notification while it executed here, look it up now.
   */
  void endedElsewhere(long runId) {
    results.executionEnded(runId);
  }

  /**
   * Tells this engine's waiters that a run finished; called after the commit. Best-effort: a
   * waiter that misses it still reads the run at the poll interval.
   */
  void announce(Finished finished) {
    results.finished(finished);
  }

  /**
   * The run's outcome when it has finished, from the engine's one result waiter (see
   * {@link RunResults}): known at once when this engine finishes it, else looked up on a
   * run-finished notification and at the poll interval, together with every other waiting run.
   *
   * @param runId the run
   * @param lookNow whether to read the run at once, since it may have finished before this call
   */
  Mono<Finished> awaitFinished(long runId, boolean lookNow) {
    return results.await(runId, lookNow);
  }

  // ---------------------------------------------------------------- JSON

  /**
   * A value as the JSON to store: written within the reader's limits (a value nested without end
   * fails at the limit, on a bounded stack), and refused unless it reads back exactly.
   *
   * @throws SerializationFailedException if the value cannot be written, read back or kept exactly
   */
  String toJson(@Nullable Object value, String what) {
    String json;
    try {
      json = mapper().writeValueAsString(value);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new SerializationFailedException(what + " cannot be serialized as JSON: " + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
    }
    String unstorable = Json.unstorableReason(json);
    if (unstorable != null) {
      throw new SerializationFailedException(what + " cannot be stored: " + unstorable, null);
    }
    return json;
  }

  <T> @Nullable T fromJson(JsonNode json, JavaType type, String what) {
    try {
      return mapper().treeToValue(json, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new SerializationFailedException(what + " does not read as " + type + ": " + e.getMessage(), e);
    }
  }

  <T> @Nullable T fromJson(String json, JavaType type, String what) {
    try {
      return mapper().readValue(json, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new SerializationFailedException(what + " does not read as " + type + ": " + e.getMessage(), e);
    }
  }

  /**
   * An error as recorded in the store (a message's last error, a step's or run's error): the
   * message of the library's own exceptions and of a retry-later request, else the exception's
   * {@code toString()}, cut to a bounded length.
   */
  static String describe(Throwable error) {
    String text = error instanceof io.pgqrs.PgqrsException || error instanceof io.pgqrs.RetryLaterException
        ? String.valueOf(error.getMessage())
        : error.toString();
    // Cut before repairing, so a pair split by the cut becomes U+FFFD instead of a lone surrogate.
    return StoredText.sanitize(text.length() > MAX_RECORDED_ERROR ? text.substring(0, MAX_RECORDED_ERROR) : text);
  }

  /**
   * Checks a caller's text: 1 to {@code max} characters the store keeps exactly.
   *
   * @throws InvalidArgumentException naming {@code field} otherwise
   */
  static void checkText(String field, @Nullable String value, int max) {
    if (value == null || value.isEmpty() || value.length() > max) {
      throw new InvalidArgumentException(field, field + " must be 1 to " + max + " characters");
    }
    StoredText.check(field, value);
  }

  static void checkKey(@Nullable String key) {
    checkText("idempotencyKey", key, MAX_KEY);
  }
}
