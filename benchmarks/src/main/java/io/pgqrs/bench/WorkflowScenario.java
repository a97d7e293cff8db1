package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Two scenarios over the subjects of {@link WorkflowSubject}:
 *
 * <ul>
 *   <li>{@code workflow}: runs/s of a three-step workflow with W workers (W runs in flight, W
 *       callers each triggering a run and awaiting its result), and the trigger-to-result latency
 *       of each run, for each W of {@code --workers};
 *   <li>{@code workflow-latency}: trigger-to-result latency of a one-step workflow with an idle
 *       worker: one caller triggers a run, awaits its result, then triggers the next.
 * </ul>
 *
 * Per cell the DBOS cell comes first, then {@code pgqrs-cross}, then {@code pgqrs} with the ratio
 * to DBOS; a subject that is not available is reported with {@code "status":"unavailable"}. On
 * PostgreSQL every cell also reports the committed transactions per run, from
 * {@code pg_stat_database.xact_commit} (see {@link CommitCounter}).
 */
final class WorkflowScenario {

  /** Seconds to wait before each {@code xact_commit} reading, past PostgreSQL's 10 s idle flush. */
  static final int DEFAULT_SETTLE_SECONDS = 11;

  /** Seconds each cell runs untimed before it is measured, unless {@code --warmup-seconds} says otherwise. */
  static final int DEFAULT_WARMUP_SECONDS = 30;

  private final Options options;
  private final boolean latency;

  /**
   * @param options the command line
   * @param latency true for {@code workflow-latency}, false for {@code workflow}
   */
  WorkflowScenario(Options options, boolean latency) {
    this.options = options;
    this.latency = latency;
  }

  static WorkflowSubject subject(String name) {
    return switch (name) {
      case "pgqrs" -> new PgqrsWorkflowSubject(false, false);
      case "pgqrs-cross" -> new PgqrsWorkflowSubject(true, false);
      case "pgqrs-metered" -> new PgqrsWorkflowSubject(false, true);
      case "pgqrs-traced" -> new PgqrsWorkflowSubject(false, false, true);
      case "pgqrs-child" -> PgqrsWorkflowSubject.child();
      case "dbos" -> new DbosWorkflowSubject();
      default -> throw new IllegalArgumentException("unknown workflow subject '" + name
          + "' (known: pgqrs, dbos)");
    };
  }

  /**
   * The subjects in the order they run: {@code dbos}, then {@code pgqrs-cross}, then
   * {@code pgqrs-metered} (local, with the Micrometer meters bound), then {@code pgqrs},
   * so that the last line of a run is a pgqrs cell. {@code --pgqrs-mode local,cross} (the default)
   * turns {@code pgqrs} of {@code --subjects} into {@code pgqrs} (local) and {@code pgqrs-cross}.
   */
  static List<String> subjects(Options options) {
    List<String> names = options.names("subjects", List.of("dbos", "pgqrs"));
    List<String> modes = options.names("pgqrs-mode", List.of("local", "cross"));
    for (String n : names) {
      if (!n.equals("dbos") && !n.equals("pgqrs")) {
        throw new IllegalArgumentException("unknown workflow subject '" + n + "' (known: pgqrs, dbos; "
            + "--pgqrs-mode local,cross picks the pgqrs rows)");
      }
    }
    for (String m : modes) {
      if (!m.equals("local") && !m.equals("cross") && !m.equals("metered") && !m.equals("traced")
          && !m.equals("child")) {
        throw new IllegalArgumentException("--pgqrs-mode values are local, cross, metered, traced and child, not '"
            + m + "'");
      }
    }
    if (names.contains("pgqrs") && modes.isEmpty()) {
      throw new IllegalArgumentException("--pgqrs-mode needs local, cross or both");
    }
    List<String> out = new ArrayList<>();
    if (names.contains("dbos")) {
      out.add("dbos");
    }
    if (names.contains("pgqrs") && modes.contains("cross")) {
      out.add("pgqrs-cross");
    }
    if (names.contains("pgqrs") && modes.contains("metered")) {
      out.add("pgqrs-metered");
    }
    if (names.contains("pgqrs") && modes.contains("traced")) {
      out.add("pgqrs-traced");
    }
    if (names.contains("pgqrs") && modes.contains("child")) {
      out.add("pgqrs-child");
    }
    if (names.contains("pgqrs") && modes.contains("local")) {
      out.add("pgqrs");
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--subjects names no subject (known: pgqrs, dbos)");
    }
    return out;
  }

  /** The pool of the executing side for W workers: 10 up to W = 4 (as before), W + 8 above. */
  static int executorPool(int workers) {
    return Math.max(10, Math.min(2 * workers + 2, workers + 8));
  }

  /** The pool of the triggering store in the cross-engine mode: W + 2, from 10 up to 24. */
  static int triggerPool(int workers) {
    return Math.max(10, Math.min(workers + 2, 24));
  }

  void run() throws Exception {
    String scenario = latency ? "workflow-latency" : "workflow";
    int steps = latency ? 1 : 3;
    if (latency && options.value("workers") != null) {
      throw new IllegalArgumentException("workflow-latency runs one caller and one idle worker; --workers is for "
          + "the workflow scenario");
    }
    List<Integer> workers = latency ? List.of(1) : options.integers("workers", List.of(1, 4));
    int runs = options.integer("runs", latency ? 500 : 2000);
    Duration settle = Duration.ofSeconds(options.count("stats-settle", DEFAULT_SETTLE_SECONDS));
    List<String> names = subjects(options);
    // Schema names take letters, digits and underscores only.
    try (Target target = Target.open(options.value("backend"), options.value("url"), scenario.replace('-', '_'),
        options.flag("keep-schema"));
         CommitCounter counter = target.isPostgres() ? new CommitCounter(target, settle) : null) {
      ObjectNode env = Env.collect(target);
      Log.info(scenario + " on " + target.describe() + ": " + runs + " runs of " + steps + " step(s), workers "
          + workers + ", subjects " + names + (counter == null ? "" : ", xact_commit settle " + settle.toSeconds()
          + " s"));
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), scenario,
          target.backend(), env)) {
        Progress progress = new Progress(scenario, workers.size() * names.size());
        for (int w : workers) {
          Double dbosRate = null;
          Double dbosP50 = null;
          for (String name : names) {
            progress.begin(name + " workers=" + w);
            ObjectNode cell = results.cell(name);
            cell.put("workers", w);
            cell.put("runs", runs);
            cell.put("steps", steps);
            try (WorkflowSubject subject = subject(name)) {
              if (!subject.available()) {
                cell.put("status", "unavailable");
                cell.put("reason", subject.unavailableReason());
              } else if (name.equals("dbos") && !target.isPostgres()) {
                cell.put("status", "unavailable");
                cell.put("reason", "DBOS Transact needs PostgreSQL");
              } else {
                double rate = measure(target, counter, subject, w, runs, steps, cell);
                if (name.equals("dbos")) {
                  dbosRate = rate;
                  dbosP50 = cell.path("p50_ms").isNumber() ? cell.path("p50_ms").asDouble() : null;
                } else if (dbosRate != null) {
                  Latencies.put(cell, "dbos_runs_per_s", dbosRate);
                  Latencies.put(cell, "ratio_to_dbos", rate / dbosRate);
                  if (dbosP50 != null && cell.path("p50_ms").isNumber()) {
                    Latencies.put(cell, "dbos_p50_ms", dbosP50);
                  }
                }
                Log.info("  " + summary(cell));
              }
            } catch (RuntimeException e) {
              Log.info(name + " failed: " + e);
              cell.put("status", "failed");
              cell.put("error", String.valueOf(e.getMessage()));
            }
            results.emit(cell);
            progress.end();
          }
        }
        Log.info(scenario + ": results in " + results.file());
      }
    }
  }

  /** One line per cell on stderr: what the report's table shows. */
  private static String summary(ObjectNode c) {
    return String.format(Locale.ROOT, "%-11s workers=%-3d %8.1f runs/s  p50 %7.2f ms  p99 %7.2f ms  xact/run %s",
        c.path("subject").asText(), c.path("workers").asInt(), c.path("runs_per_s").asDouble(),
        c.path("p50_ms").asDouble(), c.path("p99_ms").asDouble(),
        c.path("xact_per_run").isNumber() ? String.format(Locale.ROOT, "%.2f (raw %.2f, idle %.1f/s)",
            c.path("xact_per_run").asDouble(), c.path("xact_per_run_raw").asDouble(),
            c.path("xact_idle_per_s").asDouble()) : "-");
  }

  private double measure(Target target, @Nullable CommitCounter counter, WorkflowSubject subject,
      int workers, int runs, int steps, ObjectNode cell) throws Exception {
    boolean cross = subject.name().equals("pgqrs-cross");
    WorkflowTarget wt;
    if (target.isPostgres()) {
      int pool = executorPool(workers);
      int triggerPool = cross ? triggerPool(workers) : 0;
      // pgqrs keeps one LISTEN connection per store outside its pool; DBOS's listener is in its pool.
      int fixed = subject.name().equals("dbos") ? 0 : cross ? 2 : 1;
      int available = connectionBudget(target);
      if (pool + triggerPool + fixed > available) {
        double f = (available - fixed) / (double) (pool + triggerPool);
        int p = Math.max(4, (int) Math.floor(pool * f));
        int t = cross ? Math.max(4, (int) Math.floor(triggerPool * f)) : 0;
        if (p + t + fixed > available) {
          throw new IllegalStateException("the server has " + available + " free connections, "
              + subject.name() + " with " + workers + " workers needs " + (pool + triggerPool + fixed));
        }
        Log.info("  only " + available + " free connections on the server: pool " + pool + " -> " + p
            + (cross ? ", trigger pool " + triggerPool + " -> " + t : ""));
        pool = p;
        triggerPool = t;
        cell.put("pool_clamped", true);
      }
      cell.put("pool", pool);
      if (cross) {
        cell.put("trigger_pool", triggerPool);
      }
      String schema = target.newSchema(subject.name().replace('-', '_') + "_w" + workers);
      Target.PgServer pg = target.pg();
      String app = CommitCounter.APPLICATION_PREFIX + "-" + subject.name();
      wt = new WorkflowTarget(target.backend(), target.pgqrsDsn(schema, pool, app),
          cross ? target.pgqrsDsn(schema, triggerPool, app + "-trigger") : target.pgqrsDsn(schema, pool, app),
          pg.jdbcUrl(), pg.user(), pg.password(), schema, pool, triggerPool, app);
    } else {
      String dsn = target.pgqrsDsn(null, 10);
      wt = new WorkflowTarget(target.backend(), dsn, dsn, null, null, null, "", 10, 10, "");
    }
    subject.setup(wt, workers, steps);
    cell.put("config", subject.configuration());
    int warmupRuns = Math.min(200, Math.max(10, runs / 10));
    int warmupSeconds = options.count("warmup-seconds", DEFAULT_WARMUP_SECONDS);
    long warmupEnd = System.nanoTime() + warmupSeconds * 1_000_000_000L;
    long warmedUp = 0;
    // At least the runs, and on until the seconds are up: the JIT compiles a subject's hot path for
    // tens of seconds. At one worker, pgqrs measured 195 runs/s after 200 warm-up runs, 268 after
    // 15 s and 414 after 30 s; DBOS 415 after 15 s and 481 after 30 s. Every subject gets the same.
    for (int round = 0; round == 0 || System.nanoTime() < warmupEnd; round++) {
      warmedUp += drive(subject, "warmup-" + round + "-", warmupRuns, workers, steps, new Latencies());
    }
    cell.put("warmup_runs", warmedUp);
    cell.put("warmup_seconds", warmupSeconds);
    CommitCounter.Window window = counter == null ? null : counter.begin();
    Latencies latencies = new Latencies();
    long start = System.nanoTime();
    long done = drive(subject, "run-", runs, workers, steps, latencies);
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = done / seconds;
    cell.put("completed", done);
    cell.put("seconds", Latencies.round(seconds));
    Latencies.put(cell, "runs_per_s", rate);
    latencies.writeTo(cell, "", true);
    if (counter != null && window != null) {
      counter.finish(window, done, cell);
    }
    return rate;
  }

  /**
   * Free connections on the server: {@code max_connections} less the client sessions now (this
   * scenario's own reading connection among them), less two for the scenario's short connections.
   */
  private static int connectionBudget(Target target) throws SQLException {
    try (Connection c = target.jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT current_setting('max_connections')::int - (SELECT count(*)"
             + " FROM pg_stat_activity WHERE backend_type = 'client backend')")) {
      rs.next();
      // This connection is counted and closes afterwards; keep it as the margin for newSchema's.
      return rs.getInt(1) - 1;
    }
  }

  /** Runs {@code runs} workflows, {@code workers} at a time, checking every output. */
  private static long drive(WorkflowSubject subject, String prefix, int runs, int workers, int steps,
      Latencies latencies) {
    AtomicLong done = new AtomicLong();
    Flux.range(0, runs)
        .flatMap(i -> {
          String input = prefix + i;
          String expected = WorkflowSubject.expectedOutput(input, steps);
          return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return subject.run(input).doOnNext(out -> {
              latencies.record(System.nanoTime() - t0);
              if (!out.equals(expected)) {
                throw new IllegalStateException(subject.name() + " returned '" + out + "' for '" + input + "'");
              }
              done.incrementAndGet();
            });
          });
        }, workers)
        .then()
        .block(Stores.TIMEOUT.multipliedBy(6));
    return done.get();
  }
}
