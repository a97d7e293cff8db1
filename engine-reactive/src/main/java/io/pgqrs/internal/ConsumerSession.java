package io.pgqrs.internal;

import io.pgqrs.PgqrsPermanentException;
import io.pgqrs.PgqrsTransientException;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerNotFoundException;
import io.pgqrs.worker.WorkerStatus;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * One subscription of a consumer: its worker, its claim loop, the deliveries it holds and the
 * background work that keeps them (heartbeats, wake-ups, the idle timer; the engine's
 * {@link LeaseKeeper} extends their leases, and its {@link Completer} writes their settles).
 *
 * <p>Claiming is driven by one serialised drain loop ({@link #signal()}): it claims when the
 * subscriber has demand, the in-flight bound has room, the worker is not suspended and there may
 * be work ({@code more}: set at start, by a wake-up, by a full batch, by the idle timer). A claim
 * that comes back short clears {@code more} and arms the idle timer for the next due message or
 * the poll interval, whichever is sooner. Every timer runs on the engine's timer scheduler
 * ({@link io.pgqrs.PgqrsConfig#scheduler()}).
 */
final class ConsumerSession {

  private static final Logger log = LoggerFactory.getLogger(ConsumerSession.class);
  private static final AtomicLong SESSIONS = new AtomicLong();
  private static final Duration IDLE_FLOOR = Duration.ofMillis(5);
  /** The most messages one claim statement of a handler run asks for, as {@code batchSize} allows at most. */
  private static final int MAX_CLAIM = 1000;
  /** How long a small claim of a busy handler run waits for more places to free. */
  private static final Duration TOP_UP_WAIT = Duration.ofMillis(20);

  private final Engine engine;
  private final DefaultConsumer.Settings settings;
  private final boolean handlerMode;
  private final Set<DefaultDelivery> held = ConcurrentHashMap.newKeySet();
  private final AtomicInteger wip = new AtomicInteger();
  private final Disposable.Composite background = Disposables.composite();
  private final Sinks.Empty<Void> stopRequested = Sinks.empty();
  private final Sinks.Empty<Void> allSettled = Sinks.empty();
  private final Sinks.Empty<Void> finished = Sinks.empty();
  private final AtomicBoolean finishing = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();

  private volatile @Nullable FluxSink<Delivery> sink;
  private volatile @Nullable Mono<Void> started;
  private volatile long workerId = -1;
  private volatile int maxAttempts = Integer.MAX_VALUE;
  private volatile boolean ready;
  private volatile boolean more = true;
  private volatile boolean suspended;
  private volatile boolean claiming;
  private volatile boolean sinkCompleted;
  private volatile @Nullable Disposable idleTimer;
  /** The wait of a small claim for more room (see {@link #waitForMoreRoom}); only touched in the drain loop and its timer. */
  private volatile @Nullable Disposable topUpTimer;
  private volatile boolean topUpDue;
  /** Room promised to slots (see {@link #reserve}) and not yet filled or given back. */
  private final AtomicInteger reserved = new AtomicInteger();
  private volatile int claimingSize;

  /** How a session claims messages, when not through the engine's plain claim (a workflow worker's claim). */
  @FunctionalInterface
  interface Claimer {
    /**
     * Claims at most {@code limit} messages of the queue under a lease owned by the worker. Cold.
     *
     * @return the claim's result, its messages in claim order; errors as the store's claim does
     */
    Mono<StoreResults.Claimed> claim(String queue, int limit, Duration lease, long workerId);
  }

  private volatile @Nullable Claimer claimer;

  /** A finished delivery's settle, waiting to go with the session's next claim. */
  private record PendingSettle(StoreParams.Settle settle, MonoSink<StoreResults.Settled> answer) {}

  /** Settles to send with the next claim (see {@link #settle}); only the drain loop takes from it. */
  private final java.util.Queue<PendingSettle> withNextClaim = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final AtomicInteger settlesWaiting = new AtomicInteger();

  ConsumerSession(Engine engine, DefaultConsumer.Settings settings, boolean handlerMode) {
    this.engine = engine;
    this.settings = settings;
    this.handlerMode = handlerMode;
  }

  Engine engine() {
    return engine;
  }

  /** Claims through {@code claimer} from now on; set before the session is subscribed. */
  void claimWith(Claimer claimer) {
    this.claimer = claimer;
  }

  DefaultConsumer.Settings settings() {
    return settings;
  }

  int maxAttempts() {
    return maxAttempts;
  }

  /** Completes once the session has shut down: leases released, worker stopped. */
  Mono<Void> finished() {
    return finished.asMono();
  }

  /** Signals once something outside asks this session to stop (worker stopped, engine closing). */
  Mono<Void> stopRequests() {
    return stopRequested.asMono();
  }

  /**
   * The deliveries of this session; subscribe once. The sink is buffered but never holds more
   * than was requested, because claims are sized by the outstanding demand.
   */
  Flux<Delivery> deliveries() {
    return Flux.create(s -> {
      sink = s;
      s.onRequest(n -> signal());
      s.onDispose(this::onSubscriberGone);
      // Set before the engine can see this session: a close that stops it from now on finds the
      // registration to wait for. A stop that comes before the registration began skips it.
      Mono<Void> start = Mono.defer(() -> stopping.get() ? Mono.<Void>empty() : start()).cache();
      started = start;
      if (!engine.track(this)) {
        failed(new StoreUnavailableException("consume", "the store is closed: the consumer of queue '"
            + settings.queue() + "' was subscribed after close()", null));
        return;
      }
      start.subscribe(v -> { }, this::failed);
    }, FluxSink.OverflowStrategy.BUFFER);
  }

  /**
   * Registers the worker and reads the queue's settings, then starts the claim loop. A transient
   * store error (a reset connection, a busy database) is retried at the poll interval, as every
   * other step of the session is; a permanent one (an unknown queue) ends the stream.
   */
  private Mono<Void> start() {
    return retriedWhileStarting(register())
        .then(retriedWhileStarting(engine.queues().get(settings.queue())))
        .onErrorResume(e -> stopping.get() && e instanceof PgqrsTransientException ? Mono.empty() : Mono.error(e))
        .doOnNext(queue -> {
          maxAttempts = queue.maxAttempts();
          startBackground();
          ready = true;
          signal();
        })
        .then();
  }

  /** The step, subscribed again at the poll interval after each transient error until the session stops. */
  private <T> Mono<T> retriedWhileStarting(Mono<T> step) {
    return step.retryWhen(Retry.from(failures -> failures.concatMap(failure -> {
      Throwable error = failure.failure();
      if (!(error instanceof PgqrsTransientException) || stopping.get()) {
        return Mono.error(error);
      }
      log.warn("pgqrs consumer of queue '{}' could not start, retrying at the poll interval: {}",
          settings.queue(), error.toString());
      return Mono.delay(jittered(settings.pollInterval()), engine.timers());
    })));
  }

  /** Registers a new worker for this session under a unique name; the session claims as it from then on. */
  private Mono<io.pgqrs.worker.WorkerInfo> register() {
    return Mono.defer(() -> {
      String name = settings.workerName() + "#" + ProcessHandle.current().pid() + "-" + SESSIONS.incrementAndGet()
          + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000));
      return engine.workers().register(name, settings.queue());
    }).doOnNext(worker -> workerId = worker.id());
  }

  private void startBackground() {
    if (settings.wakeups()) {
      background.add(engine.driver().wakeups(settings.queue())
          .subscribe(q -> wake(), e -> log.warn("pgqrs wake-ups of queue '{}' ended: {}", settings.queue(), e.toString())));
    }
    Duration beat = settings.heartbeatInterval();
    background.add(Flux.interval(beat, beat, engine.timers())
        .onBackpressureDrop()
        .concatMap(t -> engine.workers().heartbeat(workerId)
            .onErrorResume(WorkerNotFoundException.class, e -> Mono.just(WorkerStatus.STOPPED))
            .flatMap(this::onStatus)
            .onErrorResume(e -> {
              log.warn("pgqrs worker {} heartbeat failed: {}", workerId, e.toString());
              return Mono.empty();
            }))
        .subscribe());
    // The engine's keeper extends what this session holds, with every other session's leases.
    engine.leaseKeeper().register(this);
  }

  /** Acts on the status a heartbeat returned. Cold; errors as the store does when re-registering. */
  private Mono<Void> onStatus(WorkerStatus status) {
    switch (status) {
      case SUSPENDED -> suspended = true;
      case READY -> {
        if (suspended) {
          suspended = false;
          more = true;
          signal();
        }
      }
      case STOPPED -> {
        if (stopping.get()) {
          return Mono.empty();
        }
        if (settings.endWhenWorkerStopped()) {
          log.info("pgqrs worker {} of queue '{}' was stopped from outside: shutting down", workerId, settings.queue());
          requestStop();
          return Mono.empty();
        }
        // Someone else stopped the worker (an operator, or maintenance after a partition longer than
        // the stale-worker threshold), not this session's subscriber: go on as a new worker. What
        // the old one held is either still leased to us or was given back by whoever stopped it.
        long stopped = workerId;
        return register()
            .doOnNext(worker -> {
              log.warn("pgqrs worker {} of queue '{}' was stopped from outside; the consumer goes on as worker {}",
                  stopped, settings.queue(), worker.id());
              suspended = false;
              more = true;
              signal();
            })
            .then();
      }
      default -> { }
    }
    return Mono.empty();
  }

  /** The deliveries this session holds now, a live view: the lease keeper reads it at each tick. */
  java.util.Collection<DefaultDelivery> held() {
    return java.util.Collections.unmodifiableSet(held);
  }

  // ---------------------------------------------------------------- the claim loop

  /**
   * Something may be claimable now. The idle timer is left to the drain loop, which disposes it
   * when it claims: disposed here, it could go between the loop's look at {@code more} and its
   * arming of the timer, which would then find neither a timer nor what the last claim left, and
   * ask the store.
   */
  private void wake() {
    more = true;
    signal();
  }

  void signal() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      step();
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private void step() {
    if (claiming) {
      // Settles that came meanwhile go with the next claim, right after this one's answer.
      return;
    }
    FluxSink<Delivery> s = sink;
    if (s == null) {
      return;
    }
    if (stopping.get()) {
      settleWithoutClaim();
      if (!sinkCompleted) {
        sinkCompleted = true;
        s.complete();
      }
      return;
    }
    if (!ready || suspended) {
      settleWithoutClaim();
      return;
    }
    int promised = reserved.get();
    // The messages of the settles waiting to go with the claim are free by the time it takes more:
    // the statement settles them first.
    long room = bound() - held.size() - promised + settlesWaiting.get();
    // A handler run's flatMap asks only for free handler places; the prefetch beyond them waits in
    // the sink's buffer, so the in-flight bound alone sizes its claims.
    long demand = handlerMode ? room : s.requestedFromDownstream() - promised;
    int n = (int) Math.min(claimCap(), Math.min(demand, room));
    if (n <= 0) {
      settleWithoutClaim();
      return;
    }
    if (!more) {
      // Nothing is known to be claimable: no claim is coming to carry the settles.
      settleWithoutClaim();
      armIdleTimer();
      return;
    }
    if (waitForMoreRoom(n)) {
      // The settles wait with the claim (a few milliseconds at most): more finish meanwhile, and
      // they all go in its statement.
      return;
    }
    more = false;
    claiming = true;
    claimingSize = n;
    Disposable timer = idleTimer;
    idleTimer = null;
    if (timer != null) {
      // The claim tells what it left; the timer armed from the last one is moot.
      timer.dispose();
    }
    Claimer c = claimer;
    List<PendingSettle> settles = c == null ? settlesForTheClaim() : List.of();
    Mono<StoreResults.Claimed> claim = c != null ? c.claim(settings.queue(), n, settings.lease(), workerId)
        : settles.isEmpty() ? plainClaim(n) : claimSettling(n, settles);
    // A user's handler moves to a thread of its own (HandlerRun), so a handler run takes its
    // deliveries on the driver's thread, one hop fewer per claim; a plain subscriber and the
    // workflow executor are not called on the driver's I/O thread.
    claimSentAt = System.nanoTime();
    (handlerMode && !settings.workflowHandler() ? claim : claim.publishOn(Schedulers.parallel()))
        .subscribe(this::claimed, this::claimFailed);
  }

  /**
   * Settles one held message, in the statement of the session's next claim when that is cheaper:
   * a session (a handler run or a plain deliveries() subscription, not a workflow worker's) whose
   * store claims and settles in one round trip sends the settles of its finished deliveries with
   * the claim that takes their places, one commit for both. Otherwise, and whenever no claim is
   * about to be made (nothing claimable known, no room or demand, stopping), the settle goes to the
   * engine's {@link Completer} at once. Cold; answered as the completer answers.
   */
  Mono<StoreResults.Settled> settle(StoreParams.Settle settle) {
    if (claimer != null || stopping.get() || !engine.driver().claimsAndSettlesInOneRoundTrip()) {
      return engine.completer().settle(settle);
    }
    return Mono.create(answer -> {
      withNextClaim.add(new PendingSettle(settle, answer));
      settlesWaiting.incrementAndGet();
      signal();
    });
  }

  /** The waiting settles for one claim statement: at most a completer's batch, one per message. */
  private List<PendingSettle> settlesForTheClaim() {
    List<PendingSettle> taken = new java.util.ArrayList<>();
    Set<Long> named = new java.util.HashSet<>();
    PendingSettle p;
    while (taken.size() < Completer.MAX_PER_STATEMENT && (p = withNextClaim.poll()) != null) {
      settlesWaiting.decrementAndGet();
      if (named.add(p.settle().messageId())) {
        taken.add(p);
      } else {
        toCompleter(p);
      }
    }
    return taken;
  }

  /** Hands every waiting settle to the engine's completer. */
  private void settleWithoutClaim() {
    PendingSettle p;
    while ((p = withNextClaim.poll()) != null) {
      settlesWaiting.decrementAndGet();
      toCompleter(p);
    }
  }

  private void toCompleter(PendingSettle p) {
    engine.completer().settle(p.settle()).subscribe(p.answer()::success, p.answer()::error);
  }

  /**
   * A claim that carries settles ({@link io.pgqrs.spi.StoreDriver#claimAndSettle}). Each settle is
   * answered from the statement's result before the claimed messages are delivered. If the
   * statement fails, its settles go to the completer (the statement is one transaction: none was
   * applied) and a claim without them follows at once, so a settle the store refuses never stops
   * the claiming; that claim's own error is the claim's.
   */
  private Mono<StoreResults.Claimed> claimSettling(int n, List<PendingSettle> settles) {
    StoreParams.SettleMany many = new StoreParams.SettleMany(settles.stream().map(PendingSettle::settle).toList(), null);
    return readable(engine.driver().claimAndSettle(claimOf(n), many)
        .map(result -> {
          for (int i = 0; i < settles.size(); i++) {
            settles.get(i).answer().success(result.settled().get(i));
          }
          return result.claimed();
        })
        .onErrorResume(error -> {
          // A refused settle, or any other failure of the one transaction: the settles go on their
          // own, and the claim is made again at once without them; its own error, if any, is
          // handled as every claim's.
          settles.forEach(this::toCompleter);
          log.warn("pgqrs claim with settles on queue '{}' failed, claiming without them: {}", settings.queue(),
              error.toString());
          return engine.driver().claim(claimOf(n));
        }));
  }

  /**
   * The most one claim asks for. A plain deliveries() subscriber's demand may be unbounded, so its
   * batch size caps each claim. A handler run's demand is its free handler places (its flatMap
   * asks for one more as each handler ends), so its claims follow that demand up to what one
   * statement may claim: the batch size is no cap there, and a backlog is never taken one message
   * per round trip while several handlers are free.
   */
  private int claimCap() {
    return handlerMode ? MAX_CLAIM : settings.batchSize();
  }

  /**
   * The most messages held at once: a stream's in-flight bound, or a handler run's concurrency plus
   * its prefetch. A prefetch the user set is fixed. Otherwise it follows the handlers' pace: enough
   * messages to keep every handler busy through two claim round trips (claims go out when half the
   * room is free), so handlers much faster than a round trip take many messages per statement and
   * slow ones hold no more than the concurrency ahead, so that other instances can start the rest.
   * Between those, it stays within the settings' floor and ceiling.
   */
  private int bound() {
    if (!handlerMode) {
      return settings.maxInFlight();
    }
    int floor = settings.handlerInFlightFloor();
    int ceiling = settings.handlerInFlight();
    long handler = handlerNanos;
    long claim = claimNanos;
    if (floor >= ceiling || handler == 0 || claim == 0) {
      return floor;
    }
    int concurrency = settings.concurrency();
    double wanted = concurrency + 2.0 * concurrency * claim / handler;
    return (int) Math.max(floor, Math.min(ceiling, Math.ceil(wanted)));
  }

  /** How long handlers take and claims take to answer, smoothed, in nanoseconds (0: none seen yet); see {@link #bound}. */
  private volatile long handlerNanos;
  private volatile long claimNanos;
  private volatile long claimSentAt;

  /** Tells the session how long one of its handlers ran (success or failure), for its prefetch. */
  void handlerTook(long nanos) {
    handlerNanos = smoothed(handlerNanos, nanos);
  }

  /** An average that follows the last few samples; racing updates only lose a sample. */
  private static long smoothed(long average, long sample) {
    long positive = Math.max(1, sample);
    return average == 0 ? positive : average + (positive - average) / 8;
  }

  /**
   * Whether a handler run should let a small claim wait for a moment: its handlers finish one at a
   * time, and claiming each freed place on its own would make every claim a round trip for one
   * message. While the session still holds work, a claim smaller than half of what it may hold
   * (the concurrency plus the prefetch, within the in-flight bound) waits up to
   * {@link #TOP_UP_WAIT} for more places to free, as db-scheduler's lower limit and River's fetch
   * cooldown do; the prefetched messages keep the handlers busy meanwhile. An idle session claims
   * at once, so an idle consumer's wake-up latency is unchanged.
   */
  private boolean waitForMoreRoom(int n) {
    if (!handlerMode) {
      return false;
    }
    int most = Math.min(MAX_CLAIM, bound());
    int enough = (most + 1) / 2;
    if (n >= enough || held.isEmpty() || topUpDue) {
      topUpDue = false;
      Disposable wait = topUpTimer;
      topUpTimer = null;
      if (wait != null) {
        wait.dispose();
      }
      return false;
    }
    if (topUpTimer == null) {
      topUpTimer = Mono.delay(TOP_UP_WAIT, engine.timers()).subscribe(t -> {
        topUpTimer = null;
        topUpDue = true;
        signal();
      });
    }
    return true;
  }

  private Mono<StoreResults.Claimed> plainClaim(int n) {
    return readable(engine.driver().claim(claimOf(n)));
  }

  /** This session's claim of at most {@code n} messages. */
  private StoreParams.Claim claimOf(int n) {
    return new StoreParams.Claim(settings.queue(), n, settings.lease(), workerId, null);
  }

  /** A claim's result with its unreadable messages dead-lettered (and logged) instead of delivered. */
  private Mono<StoreResults.Claimed> readable(Mono<StoreResults.Claimed> claim) {
    return claim.flatMap(result -> UnreadableMessages.deadLetter(engine.driver(), settings.queue(), result))
        .doOnNext(result -> Engine.logDeadLettered(settings.queue(), result.deadLettered()));
  }

  private void claimed(StoreResults.Claimed result) {
    claimNanos = smoothed(claimNanos, System.nanoTime() - claimSentAt);
    List<Message> messages = result.claimed();
    FluxSink<Delivery> s = sink;
    for (Message m : messages) {
      deliverOrKeep(new DefaultDelivery(this, m), s);
    }
    // What the claim left decides the next claim: another one at once only if a message it did not
    // take is visible now; otherwise the idle timer waits until the first one will be (or a
    // wake-up), with no probe of its own. A wake-up that came during the claim has set more already.
    Duration left = result.untilNextVisible();
    if (left != null && left.isZero()) {
      if (messages.isEmpty()) {
        // What is visible is held by other claimers' statements: look again in a moment.
        rest(IDLE_FLOOR);
      } else {
        more = true;
      }
    } else {
      rest(left);
    }
    claimingSize = 0;
    claiming = false;
    signal();
  }

  /**
   * Holds a delivery just leased to this session and hands it to the subscriber, unless the
   * session is stopping. A handler run stopping keeps it for {@link #finish}, which releases it
   * and reports it among the released, so every message the run claimed gets an outcome even when
   * the claim's answer came after the stop. Once the finish has begun (or for a plain deliveries()
   * subscriber, who learns nothing of releases), it is released here; {@link
   * DefaultDelivery#claimForRelease} keeps that and the finish's release from both happening.
   */
  private void deliverOrKeep(DefaultDelivery d, @Nullable FluxSink<Delivery> s) {
    held.add(d);
    engine.telemetry().claimed(settings.queue());
    if (!stopping.get() && s != null && !s.isCancelled()) {
      s.next(d);
    } else if (!handlerMode || finishing.get()) {
      releaseQuietly(d, "consumer shut down before delivery");
    }
  }

  private void claimFailed(Throwable error) {
    claimingSize = 0;
    if (error instanceof PgqrsPermanentException) {
      claiming = false;
      failed(error);
    } else {
      log.warn("pgqrs claim on queue '{}' failed, retrying at the poll interval: {}", settings.queue(), error.toString());
      more = false;
      // Armed before the claim counts as over, so the drain loop finds it (see armIdleTimer).
      armTimer(jittered(settings.pollInterval()));
      claiming = false;
    }
    // Settles that came during the claim are not left to wait for the next one.
    signal();
  }

  /**
   * Arms the idle timer from what the last claim left, unless a timer is recorded: pending, or
   * fired with a claim to follow. Only the drain loop clears it, when it claims (see {@link #wake}),
   * so a timer firing meanwhile cannot leave this to arm a second one without knowing what the
   * last claim left.
   */
  private void armIdleTimer() {
    if (idleTimer != null) {
      return;
    }
    Duration poll = jittered(settings.pollInterval());
    Rest known = rest;
    rest = null;
    // The last claim told what it left; the time since then is taken off. Without it, ask the store.
    Mono<Duration> due = known != null
        ? Mono.justOrEmpty(known.untilNextVisible())
            .map(d -> d.minusNanos(engine.timers().now(TimeUnit.NANOSECONDS) - known.atNanos()))
            .map(d -> d.isNegative() ? Duration.ZERO : d)
        : engine.driver().untilNextVisible(settings.queue(), null);
    Disposable timer = due
        .map(d -> d.compareTo(poll) < 0 ? (d.compareTo(IDLE_FLOOR) < 0 ? IDLE_FLOOR : d.plusMillis(1)) : poll)
        .defaultIfEmpty(poll)
        .onErrorReturn(poll)
        .flatMap(delay -> Mono.delay(delay, engine.timers()))
        .subscribe(t -> timerFired());
    idleTimer = timer;
  }

  /** What the last claim left, and when it was known by the engine's timers. */
  private record Rest(@Nullable Duration untilNextVisible, long atNanos) {}

  private volatile @Nullable Rest rest;

  private void rest(@Nullable Duration untilNextVisible) {
    rest = new Rest(untilNextVisible, engine.timers().now(TimeUnit.NANOSECONDS));
  }

  private void armTimer(Duration delay) {
    Disposable timer = Mono.delay(delay, engine.timers()).subscribe(t -> timerFired());
    idleTimer = timer;
  }

  private void timerFired() {
    more = true;
    signal();
  }

  private static Duration jittered(Duration interval) {
    double factor = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
    return Duration.ofNanos((long) (interval.toNanos() * factor));
  }

  private void failed(Throwable error) {
    FluxSink<Delivery> s = sink;
    stopping.set(true);
    if (s != null && !sinkCompleted) {
      sinkCompleted = true;
      s.error(error);
    }
  }

  // ---------------------------------------------------------------- slots for messages leased elsewhere

  /**
   * Room for one message that someone else leases to this session's worker (a workflow trigger
   * taking the run at once): given by {@link #reserve}, then filled by {@link #adopt} or given
   * back by {@link #cancel}, exactly once.
   */
  final class Slot {

    private final AtomicBoolean done = new AtomicBoolean();
    private final java.util.function.BiConsumer<Message, Object> beforeDelivery;

    private Slot(java.util.function.BiConsumer<Message, Object> beforeDelivery) {
      this.beforeDelivery = beforeDelivery;
    }

    /** The worker the message must be leased to. */
    long workerId() {
      return workerId;
    }

    /** How long the lease must last; the session keeps it alive from then on. */
    Duration lease() {
      return settings.lease();
    }

    /**
     * Delivers a message leased to this session's worker, as if the session had claimed it; the
     * attachment is handed to the hook first.
     */
    void adopt(Message message, Object attachment) {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      beforeDelivery.accept(message, attachment);
      DefaultDelivery d = new DefaultDelivery(ConsumerSession.this, message);
      reserved.decrementAndGet();
      deliverOrKeep(d, sink);
      signal();
    }

    /** Gives the room back: nothing was leased, or the lease will expire on its own. */
    void cancel() {
      if (done.compareAndSet(false, true)) {
        reserved.decrementAndGet();
        signal();
      }
    }
  }

  /**
   * Promises room for one more delivery when the subscriber has demand left and the in-flight
   * bound has room beyond what claims and other promises take; null otherwise.
   *
   * @param beforeDelivery called with the message and its attachment just before it is delivered
   */
  @Nullable Slot reserve(java.util.function.BiConsumer<Message, Object> beforeDelivery) {
    FluxSink<Delivery> s = sink;
    if (s == null || !ready || suspended || stopping.get() || workerId < 0) {
      return null;
    }
    while (true) {
      int promised = reserved.get();
      // A handler run does not count a claim in flight against the room: its handlers run no more
      // than its concurrency whatever it holds, so a claim answered after a slot was filled only
      // holds a few messages past the bound for a moment (no claim is made until it is back under).
      // Counting it refused every trigger made during a claim, and each such run then went through
      // the queue: its wake-up started the next claim, which refused the next triggers (a third
      // of the runs at four workers). A plain deliveries() subscriber gets no more than it requested.
      long room = bound() - held.size() - promised - (handlerMode ? 0 : claimingSize);
      // A handler run's demand lags its handlers by a moment (it asks again after a handler's
      // outcome is emitted); the in-flight bound alone limits it, and an adopted delivery waits in
      // the sink's buffer for that request. A plain deliveries() subscriber's demand is its own.
      long demand = handlerMode ? room : s.requestedFromDownstream() - promised - claimingSize;
      if (demand <= 0 || room <= 0) {
        return null;
      }
      if (reserved.compareAndSet(promised, promised + 1)) {
        return new Slot(beforeDelivery);
      }
    }
  }

  // ---------------------------------------------------------------- settling

  /** Forgets a delivery that was settled or lost. */
  void forget(DefaultDelivery d) {
    held.remove(d);
    if (stopping.get() && held.isEmpty()) {
      allSettled.tryEmitEmpty();
    }
    signal();
  }

  /** Whether the message of a lease is archived under that very lease's token. Cold. */
  Mono<Boolean> archivedUnder(Lease lease) {
    return engine.driver().findMessage(lease.messageId())
        .map(m -> m.state() == MessageState.ARCHIVED && lease.token().equals(m.leaseToken()))
        .defaultIfEmpty(false);
  }

  /** Gives a held message back at once, through the engine's completer. Cold; errors as the store does. */
  private Mono<Boolean> releaseThroughCompleter(DefaultDelivery d, String reason) {
    return engine.completer().settle(StoreParams.Settle.release(d.id(), d.lease().token(), Duration.ZERO, reason))
        .map(Completer::applied);
  }

  private void releaseQuietly(DefaultDelivery d, String reason) {
    if (!d.claimForRelease()) {
      return;
    }
    releaseThroughCompleter(d, reason)
        .onErrorResume(e -> {
          log.warn("pgqrs could not release message {} ({}); its lease will expire", d.id(), e.toString());
          return Mono.just(false);
        })
        .subscribe(ok -> d.releasedBySession());
  }

  // ---------------------------------------------------------------- shutdown

  /** Asks the session to stop claiming; the deliveries stream completes once no claim is in flight. */
  void requestStop() {
    stopRequested.tryEmitEmpty();
    if (stopping.compareAndSet(false, true)) {
      Disposable timer = idleTimer;
      if (timer != null) {
        timer.dispose();
      }
      if (held.isEmpty()) {
        allSettled.tryEmitEmpty();
      }
    }
    signal();
  }

  /** The deliveries subscriber went away (cancel, completion or error). */
  private void onSubscriberGone() {
    requestStop();
    if (handlerMode) {
      return; // the handler run decides when to finish
    }
    // Deliveries already handed out may still be settled by their holder: keep their leases alive
    // until then, or until the shutdown timeout.
    allSettled.asMono()
        .timeout(settings.shutdownTimeout(), Mono.empty(), engine.timers())
        .then(finish())
        .subscribe();
  }

  /**
   * Ends the session: releases every delivery still held, stops the worker (releasing any lease
   * left), stops the background work. Idempotent.
   *
   * @return the deliveries released, completing when the worker is stopped
   */
  Mono<List<DefaultDelivery>> finish() {
    if (!finishing.compareAndSet(false, true)) {
      return finished.asMono().thenReturn(List.of());
    }
    Mono<Void> start = started;
    return (start == null ? Mono.<Void>empty() : start.onErrorResume(e -> Mono.empty()))
        .then(Mono.defer(() -> {
          List<DefaultDelivery> leftovers = held.stream().filter(DefaultDelivery::claimForRelease).toList();
          // Only what this release took back counts: an ack cancelled mid-write may have landed.
          List<DefaultDelivery> released = new java.util.concurrent.CopyOnWriteArrayList<>();
          return Flux.fromIterable(leftovers)
              .flatMap(d -> releaseThroughCompleter(d, "consumer shut down")
                  .onErrorResume(e -> Mono.just(false))
                  .doOnNext(ok -> {
                    d.releasedBySession();
                    if (ok) {
                      released.add(d);
                    }
                  }), 8)
              .then(Mono.defer(() -> workerId < 0 ? Mono.empty()
                  : engine.workers().shutdown(workerId, true)
                      .doOnError(e -> log.warn("pgqrs could not stop worker {}: {}", workerId, e.toString()))
                      .onErrorResume(e -> Mono.empty())
                      .then()))
              .then(Mono.fromSupplier(() -> List.copyOf(released)));
        }))
        .doFinally(signal -> {
          engine.leaseKeeper().unregister(this);
          background.dispose();
          Disposable timer = idleTimer;
          if (timer != null) {
            timer.dispose();
          }
          Disposable wait = topUpTimer;
          if (wait != null) {
            wait.dispose();
          }
          engine.untrack(this);
          finished.tryEmitEmpty();
        });
  }
}
