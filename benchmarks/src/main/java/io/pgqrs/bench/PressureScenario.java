package io.pgqrs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.Store;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.Producer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code pressure} (PostgreSQL only): a steady open-loop load while the MVCC horizon is pinned,
 * then an overload, then recovery, shaped like the pressure scenarios of the public harness
 * <a href="https://github.com/hardbyte/postgresql-job-queue-benchmarking">hardbyte/postgresql-job-queue-benchmarking</a>.
 *
 * <p>A producer thread enqueues at a fixed rate, credited on real elapsed time every 10 ms tick
 * (the harness's normative pacing) and never waiting for an enqueue to return (open loop); each
 * tick's due messages go out as one {@code enqueuePayloads}. One consumer runs the handler runtime
 * ({@code handle()}) with {@code --workers} handlers at once; the handler reads its payload and
 * does {@code --job-ms} of non-blocking work (a timer, the harness's {@code JOB_WORK_MS}). After an
 * untimed warm-up the phases run in sequence, {@code --phase-seconds} each:
 *
 * <ol>
 *   <li>{@code clean}: the base rate, nothing pinned;
 *   <li>{@code idle-in-tx}: a JDBC session runs {@code BEGIN; SELECT txid_current()} and sits idle
 *       in that transaction for the phase, holding an XID (harness phase {@code idle-in-tx});
 *   <li>{@code rr-readers}: {@code --readers} JDBC sessions, each in one REPEATABLE READ transaction
 *       for the phase, keep running {@code SELECT count(*) FROM pgqrs_messages} with 100 ms between
 *       scans (harness phase {@code active-readers});
 *   <li>{@code overload}: the rate is {@code --overload-factor} (1.5) times the completion rate the
 *       clean phase achieved, nothing pinned (harness phase {@code high-load});
 *   <li>{@code recovery}: back to the base rate, nothing pinned.
 * </ol>
 *
 * <p>One JSON cell per phase: offered rate, enqueued and completed per second, completion as a
 * percentage of offered and of clean, backlog at phase end (committed, not yet completed) and the
 * store's claimable count, pickup latency p50/p95/p99/max (the message's {@code enqueuedAt}, by the
 * database clock, to the handler starting, by the JVM clock, both on this host), and per pgqrs
 * table {@code n_dead_tup}, {@code n_live_tup}, total size and autovacuum count from
 * {@code pg_stat_user_tables} at phase end, before the pin is released. Every {@code --sample-seconds}
 * (5) a sample records the window's completion rate, backlog, dead tuples, pickup p95 and the
 * oldest {@code backend_xmin} age, and each cell gives the harness's summary statistics over them
 * (medians and the dead-tuple peak).
 *
 * <p>Matches the harness: the idle-in-transaction holder (XID taken, idle until the phase ends),
 * four REPEATABLE READ readers with one transaction each and a {@code count(*)} scan of the hot
 * table every 100 ms, the 1.5 high-load multiplier, elapsed-time producer pacing, 1 ms jobs of
 * about 256 bytes, pickup latency as insert to worker start, completion rate per second, queue
 * depth as claimable messages, and dead tuples from {@code pg_stat_user_tables}. Differs: the
 * overload is 1.5 times what clean achieved (the harness multiplies the configured rate; the two
 * agree when clean keeps up); phases default to 60 s after a 10 s warm-up (the harness runs tens of
 * minutes after a 10 minute warm-up); the readers scan {@code pgqrs_messages}, which holds the live
 * messages and dead letters, the archive being a table of its own on PostgreSQL (the harness scans
 * the first table its adapter declares); pickup is
 * measured from the store's {@code enqueuedAt} rather than a producer timestamp in the payload;
 * per-window p95 over the sample window instead of a rolling 30 s window; one process, no
 * replicas, no wait-event sampling or {@code pgstattuple}; exact percentiles over every message
 * rather than HDR histograms.
 */
final class PressureScenario {

  /** The phases, in their default order, with the harness's phase type. */
  enum Phase {
    CLEAN("clean", "clean"),
    IDLE_IN_TX("idle-in-tx", "idle-in-tx"),
    RR_READERS("rr-readers", "active-readers"),
    OVERLOAD("overload", "high-load"),
    RECOVERY("recovery", "recovery");

    final String label;
    final String harnessType;

    Phase(String label, String harnessType) {
      this.label = label;
      this.harnessType = harnessType;
    }

    static Phase of(String label) {
      for (Phase p : values()) {
        if (p.label.equals(label)) {
          return p;
        }
      }
      throw new IllegalArgumentException("--phases: unknown phase '" + label + "' (clean, idle-in-tx, rr-readers, "
          + "overload, recovery)");
    }
  }

  private static final Duration TICK = Duration.ofMillis(10);
  /** The most rows of one enqueue statement, as the harness's bulk producers ({@code PRODUCER_BATCH_MAX}). */
  private static final int MAX_ROWS_PER_ENQUEUE = 128;
  private static final long READER_PAUSE_MILLIS = 100;

  private final Options options;

  PressureScenario(Options options) {
    this.options = options;
  }

  /** What one phase (or the warm-up) counts while it is the current one. */
  private static final class Counters {
    final AtomicLong dispatched = new AtomicLong();
    final AtomicLong committed = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong otherOutcomes = new AtomicLong();
    final AtomicLong enqueueFailures = new AtomicLong();
    final AtomicLong earlyStarts = new AtomicLong();
    final Latencies pickup = new Latencies();
    /** Pickup latencies of the current sample window only. */
    volatile Latencies window = new Latencies();
  }

  /** The pacing producer: credits the rate on elapsed time, sends without waiting. */
  private static final class Pacer implements Runnable {
    private final Producer producer;
    private volatile double rate;
    private volatile Counters counters;
    private final AtomicLong next = new AtomicLong();
    final AtomicLong committedTotal = new AtomicLong();
    private long last = System.nanoTime();
    private double credit;

    Pacer(Producer producer, double rate, Counters counters) {
      this.producer = producer;
      this.rate = rate;
      this.counters = counters;
    }

    void set(double newRate, Counters newCounters) {
      this.rate = newRate;
      this.counters = newCounters;
    }

    @Override
    public void run() {
      long now = System.nanoTime();
      credit += rate * ((now - last) / 1e9);
      last = now;
      long whole = (long) Math.floor(credit);
      credit -= whole;
      Counters c = counters;
      while (whole > 0) {
        int n = (int) Math.min(whole, MAX_ROWS_PER_ENQUEUE);
        whole -= n;
        long from = next.getAndAdd(n);
        c.dispatched.addAndGet(n);
        producer.enqueuePayloads(Payloads.range(from, from + n)).subscribe(
            ids -> {
              c.committed.addAndGet(ids.size());
              committedTotal.addAndGet(ids.size());
            },
            e -> {
              c.enqueueFailures.addAndGet(n);
              Log.info("pressure: an enqueue of " + n + " failed: " + e);
            });
      }
    }
  }

  /** A phase's pin on the horizon, released by {@link #close()}. */
  private interface Pin extends AutoCloseable {
    void describe(ObjectNode cell);

    @Override
    void close();
  }

  void run() throws Exception {
    int rate = options.integer("rate", 200);
    int workers = options.integer("workers", 8);
    int phaseSeconds = options.integer("phase-seconds", 60);
    int warmupSeconds = options.count("warmup-seconds", 10);
    int sampleSeconds = options.integer("sample-seconds", 5);
    int readers = options.integer("readers", 4);
    int jobMillis = options.count("job-ms", 1);
    double factor = options.decimal("overload-factor", 1.5);
    List<Phase> phases = new ArrayList<>();
    for (String name : options.names("phases", List.of("clean", "idle-in-tx", "rr-readers", "overload", "recovery"))) {
      phases.add(Phase.of(name));
    }
    if (phases.isEmpty()) {
      throw new IllegalArgumentException("--phases needs at least one phase");
    }
    try (Target target = Target.open(options.value("backend"), options.value("url"), "pressure",
        options.flag("keep-schema"))) {
      if (!target.isPostgres()) {
        throw new IllegalArgumentException("pressure runs on PostgreSQL only: idle transactions and REPEATABLE READ "
            + "readers pin PostgreSQL's MVCC horizon; there is no such horizon on " + target.backend());
      }
      String schema = target.newSchema("pgqrs");
      Store store = Stores.connect(target, schema, Math.max(10, workers + 6));
      String queue = "pressure";
      store.queues().create(queue).block(Stores.TIMEOUT);
      ObjectNode env = Env.collect(target);
      Log.info("pressure on " + target.describe() + ": " + rate + "/s, " + workers + " workers, phases "
          + phases.stream().map(p -> p.label).toList() + " of " + phaseSeconds + " s after a " + warmupSeconds
          + " s warm-up, jobs of " + jobMillis + " ms");
      ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pressure-producer");
        t.setDaemon(true);
        return t;
      });
      Disposable consumer = null;
      List<ObjectNode> emitted = new ArrayList<>();
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "pressure", target.backend(),
              env);
           Connection stats = target.jdbc()) {
        Counters warmup = new Counters();
        java.util.concurrent.atomic.AtomicReference<Counters> current =
            new java.util.concurrent.atomic.AtomicReference<>(warmup);
        AtomicLong completedTotal = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<@Nullable Throwable> consumerFailure =
            new java.util.concurrent.atomic.AtomicReference<>();
        consumer = store.consumer(queue).concurrency(workers).shutdownTimeout(Duration.ofSeconds(2)).build()
            .handle(m -> {
              Counters c = current.get();
              long pickup = Duration.between(m.enqueuedAt(), Instant.now()).toNanos();
              if (pickup < 0) {
                // The database clock ran ahead of this one: count it, record it as 0.
                c.earlyStarts.incrementAndGet();
                pickup = 0;
              }
              c.pickup.record(pickup);
              c.window.record(pickup);
              // The payload is read, as a real handler would, and the work never blocks a thread.
              m.payload().path("n").asLong();
              return jobMillis == 0 ? Mono.empty() : Mono.delay(Duration.ofMillis(jobMillis));
            })
            .subscribe(outcome -> {
              if (outcome.kind() == Outcome.Kind.ARCHIVED) {
                current.get().completed.incrementAndGet();
                completedTotal.incrementAndGet();
              } else {
                current.get().otherOutcomes.incrementAndGet();
              }
            }, e -> {
              consumerFailure.compareAndSet(null, e);
              Log.info("pressure: the consumer failed: " + e);
            });
        Pacer pacer = new Pacer(store.producer(queue).build(), rate, warmup);
        ticker.scheduleAtFixedRate(pacer, 0, TICK.toNanos(), TimeUnit.NANOSECONDS);
        if (warmupSeconds > 0) {
          Log.info("pressure: warming up for " + warmupSeconds + " s at " + rate + "/s");
          waitUntil(System.nanoTime() + warmupSeconds * 1_000_000_000L);
        }
        Progress progress = new Progress("pressure", phases.size());
        Double cleanRate = null;
        for (int index = 0; index < phases.size(); index++) {
          Phase phase = phases.get(index);
          double offered = rate;
          if (phase == Phase.OVERLOAD) {
            offered = factor * (cleanRate != null && cleanRate > 0 ? cleanRate : rate);
          }
          progress.begin(phase.label + " at " + Latencies.round(offered) + "/s for " + phaseSeconds + " s");
          Counters counters = new Counters();
          ObjectNode cell = results.cell("pgqrs");
          try (Pin pin = pin(phase, target, schema, readers)) {
            current.set(counters);
            pacer.set(offered, counters);
            long begin = System.nanoTime();
            long end = begin + phaseSeconds * 1_000_000_000L;
            ArrayNode samples = Json.MAPPER.createArrayNode();
            long lastSample = begin;
            long lastCompleted = 0;
            long lastCommitted = 0;
            while (true) {
              long due = Math.min(end, lastSample + sampleSeconds * 1_000_000_000L);
              waitUntil(due);
              long now = System.nanoTime();
              boolean last = now >= end;
              if (last) {
                // The phase ends here: what happens from now on (the pin's release, the next phase's
                // set-up) counts for no phase, so the phase's counts and its duration agree.
                Counters between = new Counters();
                current.set(between);
                pacer.set(offered, between);
              }
              Latencies window = counters.window;
              counters.window = new Latencies();
              long done = counters.completed.get();
              long committed = counters.committed.get();
              long dispatched = counters.dispatched.get();
              long backlog = pacer.committedTotal.get() - completedTotal.get();
              double seconds = (now - lastSample) / 1e9;
              ObjectNode s = samples.addObject();
              Latencies.put(s, "t_s", (now - begin) / 1e9);
              Latencies.put(s, "completed_per_s", (done - lastCompleted) / seconds);
              Latencies.put(s, "enqueued_per_s", (committed - lastCommitted) / seconds);
              s.put("backlog", backlog);
              s.put("claimable", claimable(store, queue));
              Latencies.put(s, "pickup_p95_ms", Latencies.percentileMillis(window.sorted(), 95));
              Tables tables = tables(stats, schema);
              s.put("n_dead_tup", tables.dead);
              s.put("n_live_tup", tables.live);
              s.put("xmin_age_max", xminAge(stats));
              if (last) {
                // Sampled at the phase's end, while the pin still holds.
                describe(cell, phase, index, offered, (now - begin) / 1e9, counters, dispatched, committed, done,
                    tables, samples);
                pin.describe(cell);
                break;
              }
              lastSample = now;
              lastCompleted = done;
              lastCommitted = committed;
            }
          }
          double completedPerS = cell.path("completion_per_s").asDouble();
          if (phase == Phase.CLEAN) {
            cleanRate = completedPerS;
          }
          if (cleanRate != null && cleanRate > 0) {
            Latencies.put(cell, "pct_of_clean", 100 * completedPerS / cleanRate);
          }
          Throwable failed = consumerFailure.get();
          if (failed != null) {
            cell.put("status", "failed");
            cell.put("error", "the consumer failed: " + failed);
          } else if (cell.path("enqueue_failures").asLong() > 0) {
            cell.put("status", "enqueue-failures");
          }
          cell.put("rate", rate);
          cell.put("workers", workers);
          cell.put("job_ms", jobMillis);
          cell.put("phase_seconds", phaseSeconds);
          cell.put("warmup_seconds", warmupSeconds);
          cell.put("sample_seconds", sampleSeconds);
          Latencies.put(cell, "overload_factor", factor);
          cell.put("config", "one consumer, handle() with concurrency " + workers + ", default batch size; handler "
              + "reads its payload and waits " + jobMillis + " ms (Mono.delay); producer: open loop, rate credited on "
              + "elapsed time per 10 ms tick, one enqueuePayloads of at most " + MAX_ROWS_PER_ENQUEUE + " rows per tick");
          results.emit(cell);
          emitted.add(cell);
          progress.end();
        }
        ticker.shutdownNow();
        printTable(emitted);
        Log.info("pressure: results in " + results.file());
      } finally {
        ticker.shutdownNow();
        if (consumer != null) {
          consumer.dispose();
        }
        Stores.close(store);
      }
    }
  }

  /**
   * Fills the phase's measured fields into its cell: the counts as they were at the phase's end,
   * the backlog and tables of its last sample.
   */
  private static void describe(ObjectNode cell, Phase phase, int index, double offered, double seconds,
      Counters c, long dispatched, long committed, long completed, Tables tables, ArrayNode samples) {
    cell.put("phase", phase.label);
    cell.put("phase_index", index);
    cell.put("harness_phase_type", phase.harnessType);
    Latencies.put(cell, "seconds", seconds);
    Latencies.put(cell, "offered_rate", offered);
    cell.put("dispatched", dispatched);
    cell.put("enqueued", committed);
    cell.put("completed", completed);
    Latencies.put(cell, "offered_per_s", dispatched / seconds);
    Latencies.put(cell, "enqueued_per_s", committed / seconds);
    Latencies.put(cell, "completion_per_s", completed / seconds);
    Latencies.put(cell, "completion_pct_of_offered", dispatched == 0 ? Double.NaN : 100.0 * completed / dispatched);
    JsonNode end = samples.get(samples.size() - 1);
    cell.put("backlog_end", end.path("backlog").asLong());
    cell.put("claimable_end", end.path("claimable").asLong());
    cell.put("handler_starts", c.pickup.count());
    c.pickup.writeTo(cell, "pickup_", true);
    cell.put("early_starts", c.earlyStarts.get());
    cell.put("other_outcomes", c.otherOutcomes.get());
    cell.put("enqueue_failures", c.enqueueFailures.get());
    cell.put("n_dead_tup", tables.dead);
    cell.put("n_live_tup", tables.live);
    cell.put("total_bytes", tables.bytes);
    cell.set("tables", tables.perTable);
    List<Double> completion = new ArrayList<>();
    List<Double> p95 = new ArrayList<>();
    List<Double> dead = new ArrayList<>();
    long deadPeak = 0;
    for (var s : samples) {
      completion.add(s.path("completed_per_s").asDouble());
      if (s.path("pickup_p95_ms").isNumber()) {
        p95.add(s.path("pickup_p95_ms").asDouble());
      }
      dead.add(s.path("n_dead_tup").asDouble());
      deadPeak = Math.max(deadPeak, s.path("n_dead_tup").asLong());
    }
    Latencies.put(cell, "completion_per_s_median", completion.isEmpty() ? Double.NaN : DrainScenario.median(completion));
    Latencies.put(cell, "pickup_p95_ms_median", p95.isEmpty() ? Double.NaN : DrainScenario.median(p95));
    Latencies.put(cell, "n_dead_tup_median", dead.isEmpty() ? Double.NaN : DrainScenario.median(dead));
    cell.put("n_dead_tup_peak", deadPeak);
    cell.set("samples", samples);
  }

  /** Pins the horizon as the phase asks (or nothing), once the pin is in place. */
  private static Pin pin(Phase phase, Target target, String schema, int readers) throws SQLException,
      InterruptedException {
    return switch (phase) {
      case IDLE_IN_TX -> idleInTransaction(target);
      case RR_READERS -> repeatableReadReaders(target, schema, readers);
      default -> new Pin() {
        @Override
        public void describe(ObjectNode cell) {
          cell.put("pinned", "nothing");
        }

        @Override
        public void close() {}
      };
    };
  }

  /** {@code BEGIN; SELECT txid_current()} on a session of its own, idle until closed. */
  private static Pin idleInTransaction(Target target) throws SQLException {
    Connection c = target.jdbc();
    long xid;
    try {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current()")) {
        rs.next();
        xid = rs.getLong(1);
      }
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    Log.info("  idle-in-tx: holding xid " + xid);
    return new Pin() {
      @Override
      public void describe(ObjectNode cell) {
        cell.put("pinned", "one session idle in a transaction holding an XID");
        cell.put("holder_xid", xid);
      }

      @Override
      public void close() {
        try {
          c.rollback();
          c.close();
        } catch (SQLException e) {
          Log.info("pressure: could not end the idle transaction: " + e.getMessage());
        }
      }
    };
  }

  /**
   * N sessions, each in one REPEATABLE READ transaction, scanning {@code pgqrs_messages} every
   * 100 ms until closed; returns once every reader has its snapshot (its first scan done).
   */
  private static Pin repeatableReadReaders(Target target, String schema, int readers) throws InterruptedException {
    String scan = "SELECT count(*) FROM \"" + schema + "\".pgqrs_messages";
    CountDownLatch started = new CountDownLatch(readers);
    AtomicLong scans = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicReference<@Nullable Exception> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    for (int i = 0; i < readers; i++) {
      Thread t = new Thread(() -> {
        try (Connection c = target.jdbc()) {
          c.setAutoCommit(false);
          c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
          boolean first = true;
          try (PreparedStatement st = c.prepareStatement(scan)) {
            while (!stop.get()) {
              try (ResultSet rs = st.executeQuery()) {
                rs.next();
                scans.incrementAndGet();
              } catch (SQLException e) {
                // As the harness's readers: a failed scan is counted, the reader keeps going.
                errors.incrementAndGet();
              }
              if (first) {
                started.countDown();
                first = false;
              }
              Thread.sleep(READER_PAUSE_MILLIS);
            }
          } finally {
            c.rollback();
          }
        } catch (SQLException e) {
          failure.compareAndSet(null, e);
          started.countDown();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "pressure-reader-" + i);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    Pin pin = new Pin() {
      @Override
      public void describe(ObjectNode cell) {
        cell.put("pinned", readers + " REPEATABLE READ sessions scanning pgqrs_messages, one transaction each");
        cell.put("readers", readers);
        cell.put("reader_scans", scans.get());
        cell.put("reader_errors", errors.get());
      }

      @Override
      public void close() {
        stop.set(true);
        for (Thread t : threads) {
          try {
            t.join(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    };
    if (!started.await(30, TimeUnit.SECONDS) || failure.get() != null) {
      pin.close();
      throw new IllegalStateException("the REPEATABLE READ readers did not start"
          + (failure.get() == null ? " within 30 s" : ": " + failure.get().getMessage()), failure.get());
    }
    Log.info("  rr-readers: " + readers + " readers have their snapshots");
    return pin;
  }

  /** The pgqrs tables' statistics, summed and per table. */
  private record Tables(long dead, long live, long bytes, ObjectNode perTable) {}

  private static Tables tables(Connection c, String schema) throws SQLException {
    String sql = "SELECT relname, n_dead_tup, n_live_tup, pg_total_relation_size(relid), autovacuum_count "
        + "FROM pg_stat_user_tables WHERE schemaname = ? AND relname LIKE 'pgqrs%' ORDER BY relname";
    long dead = 0;
    long live = 0;
    long bytes = 0;
    ObjectNode per = Json.object();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, schema);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          ObjectNode t = per.putObject(rs.getString(1));
          t.put("n_dead_tup", rs.getLong(2));
          t.put("n_live_tup", rs.getLong(3));
          t.put("total_bytes", rs.getLong(4));
          t.put("autovacuum_count", rs.getLong(5));
          dead += rs.getLong(2);
          live += rs.getLong(3);
          bytes += rs.getLong(4);
        }
      }
    }
    return new Tables(dead, live, bytes, per);
  }

  /** The age in transactions of the oldest {@code backend_xmin} on the server: how far the horizon lags. */
  private static long xminAge(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT coalesce(max(age(backend_xmin)), 0) FROM pg_stat_activity")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long claimable(Store store, String queue) {
    Long n = store.queues().claimable(queue).block(Duration.ofSeconds(30));
    return n == null ? -1 : n;
  }

  private static void waitUntil(long deadlineNanos) {
    long wait;
    while ((wait = deadlineNanos - System.nanoTime()) > 0) {
      LockSupport.parkNanos(wait);
    }
  }

  /** The per-phase table on stderr. */
  private static void printTable(List<ObjectNode> cells) {
    String head = String.format(Locale.ROOT, "%-11s %9s %9s %8s %8s %8s %24s %10s %10s %9s",
        "phase", "offered/s", "done/s", "%offer", "%clean", "backlog", "pickup p50/p95/p99 ms", "dead tup",
        "live tup", "size MB");
    StringBuilder sb = new StringBuilder("pressure, per phase:\n").append(head).append('\n');
    for (ObjectNode c : cells) {
      sb.append(String.format(Locale.ROOT, "%-11s %9.1f %9.1f %8s %8s %8d %24s %10d %10d %9.1f%n",
          c.path("phase").asText(), c.path("offered_per_s").asDouble(), c.path("completion_per_s").asDouble(),
          pct(c, "completion_pct_of_offered"), pct(c, "pct_of_clean"), c.path("backlog_end").asLong(),
          ms(c, "pickup_p50_ms") + " / " + ms(c, "pickup_p95_ms") + " / " + ms(c, "pickup_p99_ms"),
          c.path("n_dead_tup").asLong(), c.path("n_live_tup").asLong(), c.path("total_bytes").asLong() / 1048576.0));
    }
    System.err.print(sb);
    System.err.flush();
  }

  private static String pct(ObjectNode c, String field) {
    return c.path(field).isNumber() ? String.format(Locale.ROOT, "%.0f%%", c.path(field).asDouble()) : "-";
  }

  private static String ms(ObjectNode c, String field) {
    return c.path(field).isNumber() ? String.format(Locale.ROOT, "%.1f", c.path(field).asDouble()) : "-";
  }
}
