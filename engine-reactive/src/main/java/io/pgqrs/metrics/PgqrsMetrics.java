package io.pgqrs.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.internal.Telemetry;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.workflow.RunStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The Micrometer meters of one store, bound to a registry with {@link #bindTo}: counters and timers
 * of what this engine does (fed as it happens, no store traffic), and gauges of every queue's depth
 * read from the store at the refresh interval (one metrics query per queue per interval, from this
 * engine). The README's "Metrics" section lists every meter with its tags.
 *
 * <p>Counters and timers count this engine's work only: with several application instances on one
 * database, sum them across instances. Gauges show the whole queue, the same in every instance.
 *
 * <pre>{@code
 * PgqrsMetrics metrics = new PgqrsMetrics(store);
 * metrics.bindTo(meterRegistry);   // meters appear; the gauges refresh every 10 s
 * ...
 * metrics.close();                 // before the store closes
 * }</pre>
 *
 * <p>Thread-safe. Recording costs a map lookup and a counter or timer update on the engine's
 * threads; nothing blocks.
 */
public final class PgqrsMetrics implements MeterBinder, AutoCloseable {

  /** How often the queue gauges are read from the store unless told otherwise. */
  public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(PgqrsMetrics.class);
  private static final double[] PERCENTILES = {0.5, 0.95, 0.99};
  private static final String[] STATES = {"pending", "leased", "delayed", "dead", "archived"};

  /** How many refreshes began, numbering their readings; and the newest reading applied. */
  private final java.util.concurrent.atomic.AtomicLong refreshes = new java.util.concurrent.atomic.AtomicLong();
  private long applied;

  private final Store store;
  private final Engine engine;
  private final Duration refreshInterval;
  private final Tags commonTags;
  private final AtomicBoolean bound = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Map<String, QueueMeters> queues = new ConcurrentHashMap<>();
  private final Map<String, WorkflowMeters> workflows = new ConcurrentHashMap<>();
  private final Map<String, QueueGauges> gauges = new ConcurrentHashMap<>();
  private volatile @Nullable MeterRegistry registry;
  private volatile @Nullable AutoCloseable observation;
  private volatile @Nullable Disposable refresher;

  /**
   * The meters of {@code store}, its gauges refreshed every {@link #DEFAULT_REFRESH}, without tags
   * of their own. Nothing is registered before {@link #bindTo}.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @throws InvalidArgumentException if the store was not opened by {@code Pgqrs.connect}
   */
  public PgqrsMetrics(Store store) {
    this(store, DEFAULT_REFRESH, Tags.empty());
  }

  /**
   * The meters of {@code store}, with the gauges read every {@code refreshInterval} and
   * {@code tags} added to every meter (an application or store name, say).
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @param refreshInterval how often the queue gauges are read from the store; at least 100 ms
   * @param tags tags on every meter
   * @throws InvalidArgumentException if the store was not opened by {@code Pgqrs.connect} or the
   *     interval is shorter than 100 ms
   */
  public PgqrsMetrics(Store store, Duration refreshInterval, Iterable<Tag> tags) {
    this.store = Objects.requireNonNull(store, "store");
    if (!(store instanceof Engine e)) {
      throw new InvalidArgumentException("store", "the store must be one opened by Pgqrs.connect");
    }
    this.engine = e;
    Objects.requireNonNull(refreshInterval, "refreshInterval");
    if (refreshInterval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new InvalidArgumentException("refreshInterval", "refreshInterval must be at least 100 ms, got "
          + refreshInterval);
    }
    this.refreshInterval = refreshInterval;
    this.commonTags = Tags.of(Objects.requireNonNull(tags, "tags"));
  }

  /**
   * Registers the meters with {@code registry}, starts feeding the counters and timers, and reads
   * the gauges at once and then at the refresh interval. A failed read logs and keeps the last
   * values. Binding twice, or after {@link #close}, is refused.
   *
   * @param registry the registry, the application's
   * @throws IllegalStateException if already bound or closed
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    if (closed.get() || !bound.compareAndSet(false, true)) {
      throw new IllegalStateException("PgqrsMetrics can be bound to one registry once, before it is closed");
    }
    this.registry = registry;
    this.observation = engine.observe(new Recorder());
    this.refresher = Flux.interval(Duration.ZERO, refreshInterval, store.config().scheduler())
        .onBackpressureDrop()
        .concatMap(tick -> refresh().onErrorResume(e -> {
          log.warn("pgqrs metrics could not read the queue gauges, keeping the last values: {}", e.toString());
          return Mono.empty();
        }))
        .subscribe();
  }

  /**
   * Reads every queue's metrics from the store now and updates the gauges: gauges appear for new
   * queues and are removed for deleted ones. Cold; the refresh interval calls it too. Errors as the
   * store's metrics query does; cancelling leaves the gauges as far as they were updated.
   *
   * @return completes once the gauges are updated; an error if not bound yet
   */
  public Mono<Void> refresh() {
    return Mono.defer(() -> {
      MeterRegistry r = registry;
      if (r == null || closed.get()) {
        return Mono.error(new IllegalStateException("PgqrsMetrics is not bound to a registry"));
      }
      long read = refreshes.incrementAndGet();
      return store.queues().list()
          .map(QueueInfo::name)
          .concatMap(name -> store.queues().metrics(name).onErrorResume(QueueNotFoundException.class, e -> Mono.empty()))
          .collectList()
          .doOnNext(all -> update(r, all, read))
          .then();
    });
  }

  /**
   * Applies a refresh's reading, unless a reading begun after it was applied already: the
   * interval's refresh and a caller's may overlap, and an older list of queues applied last would
   * remove the gauges of a queue created in between.
   */
  private synchronized void update(MeterRegistry r, List<QueueMetrics> all, long read) {
    if (closed.get() || read < applied) {
      return;
    }
    applied = read;
    Set<String> seen = new HashSet<>();
    for (QueueMetrics m : all) {
      seen.add(m.queue());
      gauges.computeIfAbsent(m.queue(), q -> new QueueGauges(r, q)).latest = m;
    }
    for (String q : new ArrayList<>(gauges.keySet())) {
      if (!seen.contains(q)) {
        QueueGauges g = gauges.remove(q);
        if (g != null) {
          g.remove(r);
        }
      }
    }
  }

  /**
   * Stops feeding and refreshing, and removes this binder's meters from the registry. Idempotent.
   * Close it before the store, or its last refresh may fail on a closed store (and only log).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Disposable d = refresher;
    if (d != null) {
      d.dispose();
    }
    AutoCloseable o = observation;
    if (o != null) {
      try {
        o.close();
      } catch (Exception e) {
        log.debug("pgqrs metrics: detaching failed: {}", e.toString());
      }
    }
    MeterRegistry r = registry;
    if (r != null) {
      for (QueueGauges g : gauges.values()) {
        g.remove(r);
      }
      gauges.clear();
      for (QueueMeters m : queues.values()) {
        m.remove(r);
      }
      queues.clear();
      for (WorkflowMeters w : workflows.values()) {
        w.remove(r);
      }
      workflows.clear();
    }
  }

  // ---------------------------------------------------------------- meters

  private static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  private static Timer timer(MeterRegistry r, String name, String description, Tags tags) {
    return Timer.builder(name).description(description).tags(tags).publishPercentiles(PERCENTILES).register(r);
  }

  private static Counter counter(MeterRegistry r, String name, String description, Tags tags) {
    return Counter.builder(name).description(description).tags(tags).register(r);
  }

  /** The meters of one queue fed by this engine's events. */
  private final class QueueMeters {

    private final MeterRegistry r;
    private final Tags tags;
    private final Counter enqueued;
    private final Counter claimed;
    private final Counter leasesLost;
    private final Timer latency;
    private final EnumMap<Telemetry.Settled, Counter> settled = new EnumMap<>(Telemetry.Settled.class);
    private final Map<Outcome.Kind, Timer> handled = new ConcurrentHashMap<>();
    private final List<Meter> all = new java.util.concurrent.CopyOnWriteArrayList<>();

    QueueMeters(MeterRegistry r, String queue) {
      this.r = r;
      this.tags = commonTags.and("queue", queue);
      this.enqueued = keep(counter(r, "pgqrs.messages.enqueued", "Messages stored by producers of this engine", tags));
      this.claimed = keep(counter(r, "pgqrs.messages.claimed", "Messages leased to consumers of this engine", tags));
      this.leasesLost = keep(counter(r, "pgqrs.leases.lost",
          "Settles that found the delivery's lease gone (the message is someone else's now)", tags));
      this.latency = keep(timer(r, "pgqrs.messages.latency",
          "From enqueue to the first start of a handler (a requested delay included)", tags));
      settled.put(Telemetry.Settled.ARCHIVED, keep(counter(r, "pgqrs.messages.archived", "Deliveries archived", tags)));
      settled.put(Telemetry.Settled.DELETED, keep(counter(r, "pgqrs.messages.deleted", "Deliveries deleted", tags)));
      settled.put(Telemetry.Settled.RETRIED, keep(counter(r, "pgqrs.messages.retried",
          "Deliveries released to be tried again", tags)));
      settled.put(Telemetry.Settled.DEAD_LETTERED, keep(counter(r, "pgqrs.messages.dead.lettered",
          "Deliveries moved to the dead letters", tags)));
    }

    private <M extends Meter> M keep(M meter) {
      all.add(meter);
      return meter;
    }

    Timer handled(Outcome.Kind kind) {
      return handled.computeIfAbsent(kind, k -> keep(timer(r, "pgqrs.handler.duration",
          "Handler time of a message, by the message's outcome", tags.and("outcome", lower(k)))));
    }

    void remove(MeterRegistry registry) {
      for (Meter m : all) {
        registry.remove(m);
      }
    }
  }

  /** The meters of one workflow fed by this engine's events. */
  private final class WorkflowMeters {

    private final MeterRegistry r;
    private final Tags tags;
    private final Counter started;
    private final Map<RunStatus, Counter> finished = new ConcurrentHashMap<>();
    private final Map<RunStatus, Timer> runDuration = new ConcurrentHashMap<>();
    private final Map<String, Timer> stepDuration = new ConcurrentHashMap<>();
    private final List<Meter> all = new java.util.concurrent.CopyOnWriteArrayList<>();

    WorkflowMeters(MeterRegistry r, String workflow) {
      this.r = r;
      this.tags = commonTags.and("workflow", workflow);
      this.started = keep(counter(r, "pgqrs.workflow.runs.started", "Runs whose first execution began in this engine",
          tags));
    }

    private <M extends Meter> M keep(M meter) {
      all.add(meter);
      return meter;
    }

    void finished(RunStatus status, Duration sinceCreated) {
      finished.computeIfAbsent(status, s -> keep(counter(r, "pgqrs.workflow.runs.finished",
          "Runs that ended in this engine, by status", tags.and("status", lower(s))))).increment();
      runDuration.computeIfAbsent(status, s -> keep(timer(r, "pgqrs.workflow.run.duration",
          "From a run's trigger to its end, by status", tags.and("status", lower(s))))).record(sinceCreated);
    }

    void step(String outcome, Duration took) {
      stepDuration.computeIfAbsent(outcome, o -> keep(timer(r, "pgqrs.workflow.step.duration",
          "Time of a step's body, by how it ended (success, error, retry)", tags.and("outcome", o)))).record(took);
    }

    void remove(MeterRegistry registry) {
      for (Meter m : all) {
        registry.remove(m);
      }
    }
  }

  /** The depth gauges of one queue, showing the latest metrics read. */
  private final class QueueGauges {

    private volatile @Nullable QueueMetrics latest;
    private final List<Meter> all = new ArrayList<>();

    QueueGauges(MeterRegistry r, String queue) {
      Tags tags = commonTags.and("queue", queue);
      for (String state : STATES) {
        all.add(Gauge.builder("pgqrs.queue.messages", this, g -> g.count(state))
            .description("Messages of the queue in the state, as last read from the store")
            .tags(tags.and("state", state))
            .register(r));
      }
      all.add(TimeGauge.builder("pgqrs.queue.oldest.pending.age", this, TimeUnit.SECONDS, QueueGauges::oldestSeconds)
          .description("How long the oldest pending message has been waiting, as last read from the store")
          .tags(tags)
          .register(r));
    }

    double count(String state) {
      QueueMetrics m = latest;
      if (m == null) {
        return Double.NaN;
      }
      return switch (state) {
        case "pending" -> m.pending();
        case "leased" -> m.leased();
        case "delayed" -> m.delayed();
        case "dead" -> m.dead();
        default -> m.archived();
      };
    }

    double oldestSeconds() {
      QueueMetrics m = latest;
      if (m == null) {
        return Double.NaN;
      }
      Duration age = m.oldestPendingAge();
      return age == null ? 0 : age.toNanos() / 1e9;
    }

    void remove(MeterRegistry registry) {
      for (Meter m : all) {
        registry.remove(m);
      }
    }
  }

  // ---------------------------------------------------------------- events

  private QueueMeters queue(String name) {
    MeterRegistry r = Objects.requireNonNull(registry);
    QueueMeters m = queues.get(name);
    return m != null ? m : queues.computeIfAbsent(name, q -> new QueueMeters(r, q));
  }

  private WorkflowMeters workflow(String name) {
    MeterRegistry r = Objects.requireNonNull(registry);
    WorkflowMeters m = workflows.get(name);
    return m != null ? m : workflows.computeIfAbsent(name, w -> new WorkflowMeters(r, w));
  }

  /** Turns the engine's events into meter updates; none once closed. */
  private final class Recorder implements Telemetry {

    @Override
    public void enqueued(String queue, int count) {
      if (closed.get()) {
        return;
      }
      queue(queue).enqueued.increment(count);
    }

    @Override
    public void claimed(String queue) {
      if (closed.get()) {
        return;
      }
      queue(queue).claimed.increment();
    }

    @Override
    public void settled(String queue, Settled how) {
      if (closed.get()) {
        return;
      }
      queue(queue).settled.get(how).increment();
    }

    @Override
    public void leaseLost(String queue) {
      if (closed.get()) {
        return;
      }
      queue(queue).leasesLost.increment();
    }

    @Override
    public void handlerStarted(String queue, Duration sinceEnqueued) {
      if (closed.get()) {
        return;
      }
      queue(queue).latency.record(sinceEnqueued);
    }

    @Override
    public void handled(String queue, Outcome.Kind outcome, Duration took) {
      if (closed.get()) {
        return;
      }
      queue(queue).handled(outcome).record(took);
    }

    @Override
    public void runStarted(String workflow) {
      if (closed.get()) {
        return;
      }
      workflow(workflow).started.increment();
    }

    @Override
    public void runFinished(String workflow, RunStatus status, Duration sinceCreated) {
      if (closed.get()) {
        return;
      }
      workflow(workflow).finished(status, sinceCreated);
    }

    @Override
    public void stepFinished(String workflow, String outcome, Duration took) {
      if (closed.get()) {
        return;
      }
      workflow(workflow).step(outcome, took);
    }
  }

  @Override
  public String toString() {
    return "PgqrsMetrics[" + store + "]";
  }
}
