package io.pgqrs.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.Capabilities;
import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.admin.Admin;
import io.pgqrs.admin.Maintenance;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.admin.SystemMetrics;
import io.pgqrs.queue.Archive;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.DeadLetters;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageNotFoundException;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.Messages;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueOptions;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotEmptyException;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.queue.Queues;
import io.pgqrs.queue.ThroughputBucket;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreDriverProvider;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.InvalidWorkerStateException;
import io.pgqrs.worker.WorkerHasLeasesException;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerNotFoundException;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.worker.Workers;
import io.pgqrs.workflow.Runs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The engine behind {@link Store}: argument checks, translation of driver outcomes into typed
 * errors, and the facets of the public API, all on one {@link StoreDriver}. Not part of the public
 * API; obtain instances through {@link io.pgqrs.Pgqrs}.
 */
public final class Engine implements Store {

  private static final Logger log = LoggerFactory.getLogger(Engine.class);
  private static final int MAX_PAGE = 10_000;
  private static final int MAX_BATCH = 100_000;

  private final StoreDriver driver;
  private final PgqrsConfig config;
  private final ObjectMapper mapper;
  private final String hostname;
  private final Admin admin = new AdminFacet();
  private final Queues queues = new QueuesFacet();
  private final Messages messages = new MessagesFacet();
  private final DeadLetters deadLetters = new DeadLettersFacet();
  private final Archive archive = new ArchiveFacet();
  private final Workers workers = new WorkersFacet();
  /** Consumer sessions from their subscription until they finish; guarded by {@link #lifecycle}. */
  private final java.util.Set<ConsumerSession> sessions = new java.util.HashSet<>();
  /**
   * Orders {@link #track} against {@link #close}: a session is either tracked before close takes
   * its snapshot, and so stopped by it, or refused. Held only to touch {@link #sessions}.
   */
  private final Object lifecycle = new Object();
  private boolean closing;
  private final MaintenanceServices maintenance;
  private final WorkflowRuntime runtime;
  private final DefaultSchedules schedules;
  private final LeaseKeeper leaseKeeper = new LeaseKeeper(this);
  private final Completer completer = new Completer(this);

  private Engine(StoreDriver driver, PgqrsConfig config, ObjectMapper mapper, String hostname) {
    this.driver = driver;
    this.config = config;
    // Within the reader's limits, so nothing is written that cannot be read back (see Json).
    this.mapper = Json.withinLimits(mapper);
    this.hostname = hostname;
    this.maintenance = new MaintenanceServices(driver, config, hostname, config.scheduler());
    this.runtime = new WorkflowRuntime(this);
    this.schedules = new DefaultSchedules(driver, runtime);
  }

  /**
   * Finds the backend for the configuration, opens it and wraps it. Cold.
   *
   * @param config the configuration
   * @param mapper the payload mapper
   * @return the store; {@link ConfigurationException} if no backend serves the DSN
   */
  public static Mono<Store> connect(PgqrsConfig config, ObjectMapper mapper) {
    return Mono.defer(() -> {
      StoreDriverProvider provider = null;
      for (StoreDriverProvider candidate : ServiceLoader.load(StoreDriverProvider.class, Engine.class.getClassLoader())) {
        if (candidate.supports(config.backend())) {
          provider = candidate;
          break;
        }
      }
      if (provider == null) {
        return Mono.error(new ConfigurationException("dsn", "no pgqrs backend for '" + config.backend()
            + "' DSNs on the class path" + ("postgres".equals(config.backend()) ? ""
                : ": add the engine-reactive-sqlite-adapter module")));
      }
      // Host lookup may touch DNS: keep it off the caller's (possibly non-blocking) thread.
      Mono<String> host = Mono.fromCallable(Engine::lookUpHostname).subscribeOn(Schedulers.boundedElastic());
      return Mono.zip(provider.open(config), host)
          .map(t -> {
            Engine engine = new Engine(onStoreClock(t.getT1(), config), config, mapper, t.getT2());
            engine.maintenance.startAll();
            return (Store) engine;
          });
    });
  }

  /**
   * An engine over a driver the caller opened, its maintenance not started: for tests that
   * observe the driver's traffic. Not API.
   *
   * @param driver the store driver; closing the engine closes it
   * @param config the configuration
   * @return the engine
   */
  static Engine over(StoreDriver driver, PgqrsConfig config) {
    return new Engine(onStoreClock(driver, config), config, Json.newMapper(), "test-host");
  }

  /** The driver as the configuration's store clock makes it: itself, or running on that clock. */
  private static StoreDriver onStoreClock(StoreDriver driver, PgqrsConfig config) {
    java.time.Clock clock = config.storeClock();
    return clock == null ? driver : StoreClockDriver.over(driver, clock);
  }

  private static String lookUpHostname() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "unknown-host";
    }
  }

  /**
   * The driver this engine runs on, for engine components in other modules.
   *
   * @return the driver
   */
  public StoreDriver driver() {
    return driver;
  }

  @Override
  public Admin admin() {
    return admin;
  }

  @Override
  public Queues queues() {
    return queues;
  }

  @Override
  public Producer.Builder producer(String queue) {
    return new DefaultProducer.Builder(driver, Names.checkQueue(queue), mapper, config.clock(), this::telemetry);
  }

  @Override
  public Consumer.Builder consumer(String queue) {
    return new DefaultConsumer.Builder(this, Names.checkQueue(queue));
  }

  String hostname() {
    return hostname;
  }

  // ---------------------------------------------------------------- telemetry

  private final java.util.List<Telemetry> observers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Telemetry telemetry = Telemetry.NONE;

  /** What the engine's parts report to: {@link Telemetry#NONE} while nothing observes. */
  Telemetry telemetry() {
    return telemetry;
  }

  /**
   * Reports the engine's work to {@code observer} from now on, until the returned handle is
   * closed. Not API: {@code io.pgqrs.metrics.PgqrsMetrics} attaches through it.
   *
   * @param observer records events quickly and never throws
   * @return detaches the observer; idempotent
   */
  public AutoCloseable observe(Telemetry observer) {
    java.util.Objects.requireNonNull(observer, "observer");
    synchronized (observers) {
      observers.add(observer);
      telemetry = Telemetries.of(observers);
    }
    java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        synchronized (observers) {
          observers.remove(observer);
          telemetry = Telemetries.of(observers);
        }
      }
    };
  }

  /**
   * The scheduler of this engine's own timers (polls, heartbeats, keep-alives, timeouts, run
   * deadlines), from {@link PgqrsConfig#scheduler()}; asked for each time a timer starts.
   */
  Scheduler timers() {
    return config.scheduler();
  }

  /** The one keeper of every lease this engine's consumer sessions hold. */
  LeaseKeeper leaseKeeper() {
    return leaseKeeper;
  }

  /** The one writer of every settle (ack, delete, release, dead letter) of this engine's consumer sessions. */
  Completer completer() {
    return completer;
  }

  boolean wakeupsEnabled() {
    return config.wakeups();
  }

  /**
   * Records a consumer session as soon as it is subscribed, before it registers its worker, so
   * that {@link #close} stops it.
   *
   * @return false once close has begun: the session must end without registering
   */
  boolean track(ConsumerSession session) {
    synchronized (lifecycle) {
      if (closing) {
        return false;
      }
      sessions.add(session);
      return true;
    }
  }

  void untrack(ConsumerSession session) {
    synchronized (lifecycle) {
      sessions.remove(session);
    }
  }

  @Override
  public Messages messages() {
    return messages;
  }

  @Override
  public DeadLetters deadLetters() {
    return deadLetters;
  }

  @Override
  public Archive archive() {
    return archive;
  }

  @Override
  public Workers workers() {
    return workers;
  }

  @Override
  public Runs runs() {
    return runtime;
  }

  @Override
  public io.pgqrs.schedule.Schedules schedules() {
    return schedules;
  }

  /** The schedules facet, for the declared schedules of registered workflows. */
  DefaultSchedules scheduleFacet() {
    return schedules;
  }

  @Override
  public Maintenance maintenance() {
    return maintenance;
  }

  @Override
  public Capabilities capabilities() {
    return driver.capabilities();
  }

  @Override
  public PgqrsConfig config() {
    return config;
  }

  @Override
  public ObjectMapper objectMapper() {
    return mapper;
  }

  @Override
  public Mono<Void> close() {
    // Consumers first: their shutdown releases leases and stops workers through the driver. Then
    // maintenance: no turn may start on, or be left running against, a closing driver. Every
    // session subscribed before this point is in the snapshot, including one whose worker is
    // still being registered (its shutdown waits for the registration, then stops the worker);
    // every later one is refused by track and never registers.
    return Mono.defer(() -> {
      List<ConsumerSession> open;
      synchronized (lifecycle) {
        closing = true;
        open = List.copyOf(sessions);
      }
      return Flux.fromIterable(open)
          .flatMap(session -> {
            session.requestStop();
            return session.finished();
          })
          .then(Mono.fromRunnable(() -> {
            leaseKeeper.stop();
            completer.stop();
          }))
          .then(Mono.defer(maintenance::shutdown))
          .then(Mono.fromRunnable(runtime::close))
          .then(Mono.defer(driver::close));
    });
  }

  @Override
  public String toString() {
    return "pgqrs Store{" + driver.capabilities().backend() + ", schema=" + driver.schema() + "}";
  }

  // ---------------------------------------------------------------- checks

  /** Runs a check when subscribed, so a bad argument arrives as an error signal like any other. */
  private static <T> Mono<T> checked(Runnable check, Supplier<Mono<T>> then) {
    return Mono.defer(() -> {
      check.run();
      return then.get();
    });
  }

  private static <T> Flux<T> checkedFlux(Runnable check, Supplier<Flux<T>> then) {
    return Flux.defer(() -> {
      check.run();
      return then.get();
    });
  }

  static void checkLimit(String name, int value, int max) {
    if (value < 1 || value > max) {
      throw new InvalidArgumentException(name, name + " must be between 1 and " + max + ", got " + value);
    }
  }

  static void checkPositive(String name, @Nullable Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new InvalidArgumentException(name, name + " must be above zero, got " + value);
    }
  }

  static void checkNotNegative(String name, @Nullable Duration value) {
    if (value == null || value.isNegative()) {
      throw new InvalidArgumentException(name, name + " must not be negative, got " + value);
    }
  }

  private static void checkLease(@Nullable Lease lease) {
    if (lease == null) {
      throw new InvalidArgumentException("lease", "lease must not be null");
    }
  }

  /** The longest window {@link Queues#throughput} reads: a day of minutes is 1,440 intervals. */
  static final Duration MAX_THROUGHPUT_WINDOW = Duration.ofHours(24);
  static final Duration MIN_THROUGHPUT_BUCKET = Duration.ofMinutes(1);

  static void checkThroughputWindow(@Nullable Duration window, @Nullable Duration bucket) {
    checkPositive("window", window);
    if (window.compareTo(MAX_THROUGHPUT_WINDOW) > 0) {
      throw new InvalidArgumentException("window", "window must be at most 24 hours, got " + window);
    }
    if (bucket == null || bucket.compareTo(MIN_THROUGHPUT_BUCKET) < 0) {
      throw new InvalidArgumentException("bucket", "bucket must be at least one minute, got " + bucket);
    }
    if (bucket.compareTo(window) > 0 || window.toNanos() % bucket.toNanos() != 0) {
      throw new InvalidArgumentException("bucket", "the window (" + window + ") must be a whole number of buckets ("
          + bucket + ")");
    }
  }

  /** Every interval of the window, oldest first, with the driver's counts and zero where it has none. */
  static List<ThroughputBucket> buckets(List<StoreResults.ArchivedBucket> rows, Duration window, Duration bucket) {
    java.time.Instant since = rows.get(0).now().minus(window);
    int n = (int) (window.toNanos() / bucket.toNanos());
    long[] archived = new long[n];
    for (StoreResults.ArchivedBucket row : rows) {
      Long index = row.bucket();
      if (index != null && index >= 0 && index < n) {
        archived[index.intValue()] += row.archived();
      }
    }
    List<ThroughputBucket> buckets = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      java.time.Instant start = since.plus(bucket.multipliedBy(i));
      buckets.add(new ThroughputBucket(start, start.plus(bucket), archived[i]));
    }
    return List.copyOf(buckets);
  }

  private static QueueNotFoundException queueNotFound(String queue) {
    return new QueueNotFoundException(queue, "queue '" + queue + "' does not exist");
  }

  private Mono<QueueInfo> requireQueue(String queue) {
    return driver.findQueue(queue).switchIfEmpty(Mono.error(() -> queueNotFound(queue)));
  }

  private static StoreParams.LeaseRef ref(Lease lease) {
    return new StoreParams.LeaseRef(lease.messageId(), lease.token(), null);
  }

  // ---------------------------------------------------------------- facets

  private final class AdminFacet implements Admin {
    @Override
    public Mono<Void> install() {
      return driver.install().doOnSuccess(v -> log.info("pgqrs installed in schema {}", driver.schema()));
    }

    @Override
    public Mono<SchemaReport> verify() {
      return driver.verify();
    }

    @Override
    public Mono<Void> uninstall() {
      return driver.uninstall();
    }

    @Override
    public Mono<SystemMetrics> systemMetrics() {
      Mono<List<QueueMetrics>> perQueue = driver.queueMetrics(new StoreParams.MetricsQuery(null, null)).collectList();
      Mono<List<WorkerInfo>> all = driver.listWorkers(null).collectList();
      return Mono.zip(perQueue, all).map(t -> {
        long pending = 0;
        long leased = 0;
        long delayed = 0;
        long archived = 0;
        long dead = 0;
        Duration oldest = null;
        for (QueueMetrics m : t.getT1()) {
          pending += m.pending();
          leased += m.leased();
          delayed += m.delayed();
          archived += m.archived();
          dead += m.dead();
          if (m.oldestPendingAge() != null && (oldest == null || m.oldestPendingAge().compareTo(oldest) > 0)) {
            oldest = m.oldestPendingAge();
          }
        }
        long[] byStatus = new long[WorkerStatus.values().length];
        t.getT2().forEach(w -> byStatus[w.status().ordinal()]++);
        return new SystemMetrics(t.getT1().size(), pending, leased, delayed, archived, dead, oldest,
            byStatus[WorkerStatus.READY.ordinal()], byStatus[WorkerStatus.SUSPENDED.ordinal()],
            byStatus[WorkerStatus.STOPPED.ordinal()], t.getT1());
      });
    }
  }

  private final class QueuesFacet implements Queues {
    @Override
    public Mono<QueueInfo> create(String name) {
      return create(name, config.maxAttempts());
    }

    @Override
    public Mono<QueueInfo> create(String name, int maxAttempts) {
      return checked(() -> {
        Names.checkQueue(name);
        checkLimit("maxAttempts", maxAttempts, 1_000_000);
      }, () -> driver.createQueue(new StoreParams.CreateQueue(name, maxAttempts, null)));
    }

    @Override
    public Mono<QueueInfo> create(String name, QueueOptions options) {
      return checked(() -> {
        Names.checkQueue(name);
        if (options == null) {
          throw new InvalidArgumentException("options", "options must not be null");
        }
      }, () -> driver.createQueue(new StoreParams.CreateQueue(name,
          options.maxAttempts() != null ? options.maxAttempts() : config.maxAttempts(), options.maxLeased(),
          options.maxClaimsPerSecond(), null, options.maxLeasedPerKey())));
    }

    @Override
    public Mono<QueueInfo> configure(String name, QueueOptions options) {
      return checked(() -> {
        Names.checkQueue(name);
        if (options == null) {
          throw new InvalidArgumentException("options", "options must not be null");
        }
      }, () -> driver.configureQueue(new StoreParams.ConfigureQueue(name, options.maxAttempts(), options.maxLeased(),
              options.maxClaimsPerSecond(), options.maxLeasedPerKey()))
          .switchIfEmpty(Mono.error(() -> queueNotFound(name))));
    }

    @Override
    public Mono<QueueInfo> get(String name) {
      return checked(() -> Names.checkQueue(name), () -> requireQueue(name));
    }

    @Override
    public Flux<QueueInfo> list() {
      return driver.listQueues();
    }

    @Override
    public Mono<Long> purge(String name) {
      return checked(() -> Names.checkQueue(name), () -> driver.purgeQueue(name));
    }

    @Override
    public Mono<Void> delete(String name) {
      return delete(name, false);
    }

    @Override
    public Mono<Void> delete(String name, boolean force) {
      return checked(() -> Names.checkQueue(name), () -> driver.deleteQueue(new StoreParams.DeleteQueue(name, force))
          .flatMap(outcome -> {
            if (outcome instanceof StoreResults.QueueMissing) {
              return Mono.error(queueNotFound(name));
            }
            if (outcome instanceof StoreResults.QueueInUse use) {
              return Mono.error(new QueueNotEmptyException(name, use.liveMessages(), use.activeWorkers(),
                  "queue '" + name + "' was not deleted: it has " + use.liveMessages() + " live message(s) and "
                      + use.activeWorkers() + " active worker(s); delete with force to drop them"));
            }
            return Mono.empty();
          }));
    }

    @Override
    public Mono<QueueMetrics> metrics(String name) {
      return checked(() -> Names.checkQueue(name),
          () -> driver.queueMetrics(new StoreParams.MetricsQuery(name, null)).next()
              .switchIfEmpty(Mono.error(() -> queueNotFound(name))));
    }

    @Override
    public Mono<List<ThroughputBucket>> throughput(String name, Duration window, Duration bucket) {
      return checked(() -> {
        Names.checkQueue(name);
        checkThroughputWindow(window, bucket);
      }, () -> driver.queueThroughput(new StoreParams.ThroughputQuery(name, window, bucket, null)).collectList()
          .flatMap(rows -> rows.isEmpty() ? Mono.error(queueNotFound(name)) : Mono.just(buckets(rows, window, bucket))));
    }

    @Override
    public Mono<Long> claimable(String name) {
      return checked(() -> Names.checkQueue(name),
          () -> driver.countClaimable(name, null).switchIfEmpty(Mono.error(() -> queueNotFound(name))));
    }
  }

  private final java.util.concurrent.atomic.AtomicLong leaseLosses = new java.util.concurrent.atomic.AtomicLong();

  /** Counts a lease this engine's consumers found lost while holding its message. */
  void leaseLost() {
    leaseLosses.incrementAndGet();
  }

  /** How many leases this engine's consumers found lost while holding their message, since it opened. */
  long leaseLosses() {
    return leaseLosses.get();
  }

  /** Logs the messages a claim dead-lettered because they had used their attempts. */
  static void logDeadLettered(String queue, List<Message> deadLettered) {
    if (!deadLettered.isEmpty()) {
      log.warn("queue {}: dead-lettered {} message(s) that reached max attempts: ids {}", queue,
          deadLettered.size(), deadLettered.stream().map(Message::id).toList());
    }
  }

  private final class MessagesFacet implements Messages {
    @Override
    public Mono<List<Message>> claim(String queue, int limit) {
      return claim(queue, limit, config.leaseDuration(), null);
    }

    @Override
    public Mono<List<Message>> claim(String queue, int limit, Duration lease, @Nullable Long workerId) {
      return checked(() -> {
        Names.checkQueue(queue);
        checkLimit("limit", limit, MAX_PAGE);
        checkPositive("lease", lease);
      }, () -> ready(workerId).then(driver.claim(new StoreParams.Claim(queue, limit, lease, workerId, null)))
          .flatMap(result -> UnreadableMessages.deadLetter(driver, queue, result))
          .doOnNext(result -> logDeadLettered(queue, result.deadLettered()))
          .map(StoreResults.Claimed::claimed));
    }

    /**
     * Completes if the worker may own leases: none named, or one that is READY. A lease owned by a
     * stopped, suspended or unknown worker would never be taken back early by maintenance.
     */
    private Mono<Void> ready(@Nullable Long workerId) {
      if (workerId == null) {
        return Mono.empty();
      }
      return driver.findWorker(workerId)
          .switchIfEmpty(Mono.error(() -> new WorkerNotFoundException(workerId,
              "worker " + workerId + " does not exist: nothing was claimed")))
          .flatMap(w -> w.status() == WorkerStatus.READY ? Mono.<Void>empty()
              : Mono.error(new InvalidWorkerStateException(workerId, w.status(),
                  "worker " + workerId + " is " + w.status().name().toLowerCase(java.util.Locale.ROOT)
                      + " and cannot own leases: nothing was claimed")));
    }

    @Override
    public Mono<Boolean> archive(Lease lease) {
      return checked(() -> checkLease(lease), () -> driver.archive(ref(lease)));
    }

    @Override
    public Mono<Integer> archiveAll(List<Lease> leases) {
      return checked(() -> {
        if (leases == null) {
          throw new InvalidArgumentException("leases", "leases must not be null");
        }
        leases.forEach(Engine::checkLease);
      }, () -> Mono.defer(() -> leases.isEmpty()
          ? Mono.just(0)
          : driver.archiveMany(new StoreParams.ArchiveMany(leases.stream().map(Engine::ref).toList(), null))));
    }

    @Override
    public Mono<Boolean> delete(Lease lease) {
      return checked(() -> checkLease(lease), () -> driver.delete(ref(lease)));
    }

    @Override
    public Mono<Boolean> release(Lease lease, Duration delay, @Nullable String error) {
      return checked(() -> {
        checkLease(lease);
        checkNotNegative("delay", delay);
        StoredText.check("error", error);
      }, () -> driver.release(new StoreParams.Release(ref(lease), delay, error)));
    }

    @Override
    public Mono<Boolean> release(Lease lease) {
      return release(lease, Duration.ZERO, null);
    }

    @Override
    public Mono<Lease> extend(Lease lease, Duration duration) {
      return checked(() -> {
        checkLease(lease);
        checkPositive("duration", duration);
      }, () -> driver.extend(new StoreParams.Extend(ref(lease), duration)));
    }

    @Override
    public Mono<Boolean> deadLetter(Lease lease, String error) {
      return checked(() -> {
        checkLease(lease);
        if (error == null) {
          throw new InvalidArgumentException("error", "error must not be null");
        }
        StoredText.check("error", error);
      }, () -> driver.deadLetter(new StoreParams.DeadLetter(ref(lease), error)));
    }

    @Override
    public Mono<Message> get(long id) {
      return driver.findMessage(id)
          .switchIfEmpty(Mono.error(() -> new MessageNotFoundException(id, "message " + id + " does not exist")));
    }

    @Override
    public Flux<Message> list(String queue, MessageState state, long afterId, int limit) {
      return Flux.defer(() -> {
        if (state == null) {
          throw new InvalidArgumentException("state", "state must not be null");
        }
        return listState(queue, state, afterId, limit);
      });
    }
  }

  private Flux<Message> listState(String queue, MessageState state, long afterId, int limit) {
    return checkedFlux(() -> {
      Names.checkQueue(queue);
      checkLimit("limit", limit, MAX_PAGE);
    }, () -> requireQueue(queue).thenMany(driver.listMessages(new StoreParams.ListMessages(queue, state, afterId, limit))));
  }

  private final class DeadLettersFacet implements DeadLetters {
    @Override
    public Flux<Message> list(String queue, long afterId, int limit) {
      return listState(queue, MessageState.DEAD, afterId, limit);
    }

    @Override
    public Mono<Long> replay(String queue, List<Long> ids) {
      return checked(() -> {
        Names.checkQueue(queue);
        if (ids == null || ids.stream().anyMatch(java.util.Objects::isNull)) {
          throw new InvalidArgumentException("ids", "ids must be a list of message ids without nulls");
        }
        checkLimit("ids.size", Math.max(1, ids.size()), MAX_BATCH);
      }, () -> Mono.defer(() -> ids.isEmpty()
          ? requireQueue(queue).thenReturn(0L)
          : driver.replayDead(new StoreParams.Replay(queue, new ArrayList<>(ids), null))));
    }

    @Override
    public Mono<Long> replayAll(String queue) {
      return checked(() -> Names.checkQueue(queue), () -> driver.replayDead(new StoreParams.Replay(queue, null, null)));
    }

    @Override
    public Mono<Long> purge(String queue) {
      return checked(() -> Names.checkQueue(queue),
          () -> driver.purgeMessages(new StoreParams.PurgeMessages(queue, MessageState.DEAD, null, 0, null)));
    }
  }

  private final class ArchiveFacet implements Archive {
    @Override
    public Flux<Message> list(String queue, long afterId, int limit) {
      return listState(queue, MessageState.ARCHIVED, afterId, limit);
    }

    @Override
    public Mono<Long> purgeOlderThan(String queue, Duration age) {
      return checked(() -> {
        Names.checkQueue(queue);
        checkNotNegative("age", age);
      }, () -> driver.purgeMessages(new StoreParams.PurgeMessages(queue, MessageState.ARCHIVED, age, 0, null)));
    }
  }

  private final class WorkersFacet implements Workers {
    /** The workers this store registered and has not shut down or deleted. */
    private final java.util.Set<Long> registeredHere = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public Mono<WorkerInfo> register(String name, @Nullable String queue) {
      return checked(() -> {
        Names.checkWorkerName(name);
        if (queue != null) {
          Names.checkQueue(queue);
        }
      }, () -> driver.registerWorker(new StoreParams.RegisterWorker(name, queue, hostname, ProcessHandle.current().pid(),
          null)))
          .doOnNext(worker -> registeredHere.add(worker.id()));
    }

    @Override
    public boolean registeredHere(long workerId) {
      return registeredHere.contains(workerId);
    }

    private WorkerNotFoundException notFound(long workerId) {
      return new WorkerNotFoundException(workerId, "worker " + workerId + " does not exist");
    }

    @Override
    public Mono<WorkerStatus> heartbeat(long workerId) {
      return driver.heartbeat(new StoreParams.Heartbeat(workerId, null))
          .switchIfEmpty(Mono.error(() -> notFound(workerId)));
    }

    private Mono<WorkerInfo> moveTo(long workerId, WorkerStatus status) {
      return driver.setWorkerStatus(new StoreParams.SetWorkerStatus(workerId, status))
          .switchIfEmpty(Mono.error(() -> notFound(workerId)))
          .flatMap(w -> w.status() == WorkerStatus.STOPPED
              ? Mono.error(new InvalidWorkerStateException(workerId, w.status(),
                  "worker " + workerId + " is stopped and cannot become " + status))
              : Mono.just(w));
    }

    @Override
    public Mono<WorkerInfo> suspend(long workerId) {
      return moveTo(workerId, WorkerStatus.SUSPENDED);
    }

    @Override
    public Mono<WorkerInfo> resume(long workerId) {
      return moveTo(workerId, WorkerStatus.READY);
    }

    @Override
    public Mono<WorkerInfo> shutdown(long workerId, boolean releaseLeases) {
      return driver.shutdownWorker(new StoreParams.ShutdownWorker(workerId, releaseLeases, null))
          .flatMap(outcome -> {
            if (outcome instanceof StoreResults.WorkerMissing) {
              return Mono.error(notFound(workerId));
            }
            if (outcome instanceof StoreResults.WorkerBusy busy) {
              return Mono.error(new WorkerHasLeasesException(workerId, busy.leases(),
                  "worker " + workerId + " holds " + busy.leases()
                      + " lease(s); shut it down with releaseLeases to hand them back"));
            }
            registeredHere.remove(workerId);
            return get(workerId);
          });
    }

    @Override
    public Mono<WorkerInfo> get(long workerId) {
      return driver.findWorker(workerId).switchIfEmpty(Mono.error(() -> notFound(workerId)));
    }

    @Override
    public Flux<WorkerInfo> list(@Nullable String queue) {
      if (queue == null) {
        return driver.listWorkers(null);
      }
      return checkedFlux(() -> Names.checkQueue(queue), () -> requireQueue(queue).thenMany(driver.listWorkers(queue)));
    }

    @Override
    public Flux<WorkerHealth> health(Duration staleAfter) {
      return checkedFlux(() -> checkPositive("staleAfter", staleAfter),
          () -> driver.workerHealth(new StoreParams.WorkerHealthQuery(staleAfter, null)));
    }

    @Override
    public Mono<Void> delete(long workerId) {
      return driver.deleteWorker(workerId).flatMap(outcome -> {
        if (outcome instanceof StoreResults.WorkerMissing) {
          return Mono.error(notFound(workerId));
        }
        if (outcome instanceof StoreResults.WorkerBusy busy) {
          return Mono.error(new WorkerHasLeasesException(workerId, busy.leases(),
              "worker " + workerId + " holds " + busy.leases() + " lease(s) and cannot be deleted"));
        }
        registeredHere.remove(workerId);
        return Mono.empty();
      });
    }
  }
}
