package io.pgqrs.testkit;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A test's store, clock and helpers, given by {@link PgqrsExtension}. Every helper returns a cold
 * {@code Mono} or {@code Flux} to verify with {@code StepVerifier ... verify(Duration)}; nothing
 * happens until subscription. Workers the kit starts are stopped, and the store closed, when the
 * test ends.
 */
public final class PgqrsTestKit {

  /** How often the helpers look at the store while they wait for a queue or a run. */
  static final Duration CHECK = Duration.ofMillis(PgqrsExtension.POLL_INTERVAL_MILLIS);

  private static final Duration T = Duration.ofSeconds(30);

  /** Past the store's "never" (9999-12-31), where a paused run's message waits: never skipped to. */
  private static final Instant NEVER = Instant.parse("9000-01-01T00:00:00Z");

  private final Backend backend;
  private final PgqrsConfig config;
  private final TestClock clock;
  private volatile Store store;
  private final Map<String, WorkflowWorker> workers = new ConcurrentHashMap<>();

  PgqrsTestKit(Backend backend, PgqrsConfig config, TestClock clock, Store store) {
    this.backend = backend;
    this.config = config;
    this.clock = clock;
    this.store = store;
    // The scheduler service sleeps on real time until the next tick it knew of: an advance past a
    // tick fires it at once, as that service's next turn would.
    clock.afterAdvance(() -> this.store.maintenance().scheduler().runOnce().block(T));
  }

  /**
   * The test's store; after {@link #reopen()} the new one.
   *
   * @return the store
   */
  public Store store() {
    return store;
  }

  /**
   * The test's clock, which moves the store's time.
   *
   * @return the clock
   */
  public TestClock clock() {
    return clock;
  }

  /**
   * The test's backend.
   *
   * @return the backend
   */
  public Backend backend() {
    return backend;
  }

  /**
   * Runs {@code handler} on the messages of {@code queue} until no message is due or leased: emits
   * one {@link Outcome} per handled message, then completes once the consumer has shut down.
   * Messages whose retry or delay lies in the future are left for later: advance the
   * {@link #clock()} and drain again. Cold: each subscription starts a consumer (polling every
   * {@value PgqrsExtension#POLL_INTERVAL_MILLIS} ms); cancelling shuts it down gracefully. Errors
   * with the consumer's error (for example {@link io.pgqrs.queue.QueueNotFoundException}).
   *
   * @param queue the queue
   * @param handler the handler under test
   * @return the outcomes
   */
  public Flux<Outcome> drain(String queue, Function<? super Message, ? extends Publisher<?>> handler) {
    return drain(queue, UnaryOperator.identity(), handler);
  }

  /**
   * Like {@link #drain(String, Function)}, with the consumer configured by {@code options} (a retry
   * policy, a lease, a concurrency).
   *
   * @param queue the queue
   * @param options applied to the consumer's builder
   * @param handler the handler under test
   * @return the outcomes
   */
  public Flux<Outcome> drain(String queue, UnaryOperator<Consumer.Builder> options,
      Function<? super Message, ? extends Publisher<?>> handler) {
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(handler, "handler");
    return Flux.defer(() -> {
      Store s = store;
      Mono<QueueMetrics> idle = Flux.interval(Duration.ZERO, CHECK)
          .onBackpressureDrop()
          .concatMap(t -> s.queues().metrics(queue))
          .filter(m -> m.pending() == 0 && m.leased() == 0)
          .next();
      Consumer consumer = options.apply(s.consumer(queue).pollInterval(CHECK)).build();
      return consumer.handle(handler, idle);
    });
  }

  /**
   * The worker of a workflow for this test, started on first use and stopped when the test ends.
   * Not I/O: the worker starts in the background.
   *
   * @param workflow the registered workflow
   * @return its worker
   */
  public WorkflowWorker worker(Workflow<?, ?> workflow) {
    Objects.requireNonNull(workflow, "workflow");
    return workers.computeIfAbsent(workflow.definition().queue(),
        q -> workflow.worker().pollInterval(CHECK).shutdownTimeout(Duration.ZERO).start());
  }

  /**
   * Triggers a run and {@linkplain #awaitEnd(Workflow, RunHandle) drives it to its end}. Cold.
   *
   * @param workflow the registered workflow
   * @param input the run's input
   * @param <I> the input type
   * @param <O> the output type
   * @return the run's output; the run's error ({@link io.pgqrs.workflow.WorkflowFailedException}
   *     and the like) if it fails
   */
  public <I, O> Mono<O> runToEnd(Workflow<I, O> workflow, I input) {
    return Mono.defer(() -> {
      worker(workflow);
      return workflow.trigger(input).flatMap(run -> awaitEnd(workflow, run));
    });
  }

  /**
   * Waits for a run to finish while its worker runs it, skipping time: whenever the workflow's
   * queue has nothing due or leased but a message due later (a sleep, a retry's backoff, a signal's
   * timeout), the {@link #clock()} advances to it. A run waiting for a signal therefore times out
   * unless the signal was sent; a paused run is never woken. Cold; cancelling stops the driving,
   * not the run. Errors with the run's error, or with the error of the scheduler turn an advance
   * runs (see {@link TestClock#advance(Duration)}).
   *
   * @param workflow the run's workflow, whose {@link #worker(Workflow)} is started if needed
   * @param run the run
   * @param <O> the output type
   * @return the run's output, or its error
   */
  public <O> Mono<O> awaitEnd(Workflow<?, O> workflow, RunHandle<O> run) {
    return Mono.defer(() -> {
      worker(workflow);
      String queue = workflow.definition().queue();
      Flux<Object> drive = Flux.interval(CHECK, CHECK)
          .onBackpressureDrop()
          .concatMap(t -> skipIdleTime(queue));
      // The first signal wins: the result, or a failure of an advance's scheduler turn (not retried).
      return Mono.firstWithSignal(run.result(), drive.then(Mono.<O>never()));
    });
  }

  private Mono<Object> skipIdleTime(String queue) {
    // A failed look at the queue (a transient store error) is tried again at the next tick.
    return store.queues().metrics(queue)
        .onErrorResume(e -> Mono.empty())
        .filter(m -> m.pending() == 0 && m.leased() == 0 && m.delayed() > 0)
        .flatMap(m -> ((Engine) store).driver().untilNextVisible(queue, null).onErrorResume(e -> Mono.empty()))
        // A paused run's message waits for the store's "never", far but finite: not time to skip.
        .filter(left -> left.compareTo(Duration.ZERO) > 0 && clock.instant().plus(left).isBefore(NEVER))
        .flatMap(left -> Mono.fromCallable(() -> {
          clock.advance(left);
          return (Object) queue;
        }).subscribeOn(Schedulers.boundedElastic()));
  }

  /**
   * The dead letters of a queue, oldest first (up to 1000). Cold.
   *
   * @param queue the queue
   * @return the dead-lettered messages
   */
  public Flux<Message> deadLetters(String queue) {
    return Flux.defer(() -> store.deadLetters().list(queue, 0, 1000));
  }

  /**
   * The recorded steps of a run, in the order they were first recorded. Cold.
   *
   * @param runId the run
   * @return the steps; {@link io.pgqrs.workflow.RunNotFoundException} if there is no such run
   */
  public Flux<StepInfo> steps(long runId) {
    return Flux.defer(() -> store.runs().steps(runId));
  }

  /**
   * Simulates a crash and a restart: stops the kit's workers at once (a step in flight is cut
   * short, unrecorded), closes the store, and opens a new store on the same database, which
   * {@link #store()} returns from then on (a {@code Store} injected earlier is closed). Runs and
   * messages the old store held become claimable when their leases end: advance the clock past the
   * lease. Workflows must be registered again on the new store. Cold.
   *
   * @return the new store
   */
  public Mono<Store> reopen() {
    return Mono.defer(() -> {
      List<WorkflowWorker> stopping = new ArrayList<>(workers.values());
      workers.clear();
      return Flux.fromIterable(stopping).flatMap(WorkflowWorker::stop).then(store.close())
          .then(Pgqrs.connect(config))
          .doOnNext(s -> store = s);
    });
  }

  /** Stops the workers and closes the store; blocking, at the end of a test. */
  void close() {
    List<WorkflowWorker> stopping = new ArrayList<>(workers.values());
    workers.clear();
    Flux.fromIterable(stopping).flatMap(WorkflowWorker::stop).onErrorResume(e -> Mono.empty())
        .then(store.close()).block(T);
  }
}
