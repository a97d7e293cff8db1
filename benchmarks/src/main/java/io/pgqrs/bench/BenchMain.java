package io.pgqrs.bench;

import java.nio.file.Path;

/**
 * The command-line runner: {@code benchmarks/run SCENARIO [options]}. Scenarios: {@code drain},
 * {@code latency}, {@code enqueue}, {@code workflow}, {@code workflow-latency}, {@code pressure}; {@code report} renders the latest results as
 * Markdown and SVG; {@code jmh} runs the micro-benchmarks. Every measured cell is one JSON object on
 * stdout (the last line is the last cell) and one line in {@code OUT/SCENARIO-BACKEND-RUNID.jsonl};
 * progress and logs go to stderr. Exit status 0 on success, 2 for bad arguments, 1 for a failure.
 */
public final class BenchMain {

  static final String USAGE = """
      usage: benchmarks/run SCENARIO [options]

      scenarios
        drain     prefill N messages, drain them with consumers x batch; with the JDBC ceiling and peers
        latency   steady enqueue at a fixed rate, idle subscribed consumers: enqueue-commit to handler-start
        enqueue   single-row and batch enqueue throughput with 1 and 4 producers
        workflow  runs/s and trigger-to-result latency of a three-step workflow (pgqrs, DBOS Transact)
        workflow-latency
                  trigger-to-result latency of a one-step workflow: sequential runs, an idle worker
        pressure  PostgreSQL: a fixed-rate load through phases clean, idle-in-tx (an idle transaction holding an
                  XID), rr-readers (REPEATABLE READ readers), overload (1.5x clean), recovery; per phase the
                  completion rate, backlog, pickup latency and dead tuples of the pgqrs tables
        report    render the latest results as benchmarks/results/REPORT.md and SVG charts
        jmh       JMH micro-benchmarks of the hot in-process paths (--jmh-profile short|full)

      options
        --backend postgres|sqlite|turso   default: from --url, else postgres
        --url URL                         postgresql://user@host:5432/db, sqlite:path, turso:http://host:port
                                          (postgres default: $PGQRS_BENCH_POSTGRES_URL, $PGQRS_TEST_POSTGRES_URL,
                                          postgresql://postgres@127.0.0.1:5432/test; sqlite default: a temp file)
        --messages N                      drain backlog (50000)
        --consumers LIST --batch LIST     drain sweep (1,2,4 and 1,10,50); latency consumers (1)
        --warmup N                        drain: untimed warm-up messages (min(10000, N/5)); 0 for none
        --repeat R                        drain: alternate ceiling and pgqrs R times per cell, report the median (1)
        --api loop|stream|handle          drain with claim+archive loops (default), the consumer stream
                                          (deliveries()) or the handler runtime (handle()); on PostgreSQL
                                          each pgqrs cell reports xact_per_msg (commits per message)
        --no-ceiling --no-peers           drain: skip the JDBC ceiling / the peers
        --metrics                         drain: bind the store's Micrometer meters (PgqrsMetrics) while draining
        --tracing                         drain: observe the store (PgqrsObservations) with a Brave tracer whose
                                          spans are dropped at the end, so enqueues carry a trace context
        --peers LIST                      drain peers (db-scheduler,jobrunr)   --peer-messages N (= --messages)
        --rate N --seconds S              latency: enqueues per second (500) for S seconds (30)
        --producers LIST --batch LIST     enqueue sweep (1,4 and 1,100,1000); --seconds S per cell (10)
        --workers LIST --runs N           workflow sweep (1,4) and runs per cell (2000; workflow-latency: 500)
        --subjects LIST                   workflow subjects (pgqrs,dbos)
        --warmup-seconds S                workflow: untimed runs per cell before it is measured, at least
                                          min(200, runs/10) and on for S seconds (30; 0 for the runs only)
        --pgqrs-mode LIST                 workflow: local (row pgqrs: trigger and execute in one store),
                                          cross (row pgqrs-cross: trigger in a store with no worker, execute
                                          in a second store with its own pool), metered (row pgqrs-metered:
                                          local with the Micrometer meters bound), traced (row pgqrs-traced:
                                          local, observed with a Brave tracer), child (row pgqrs-child: a
                                          parent whose body is ctx.child of the workflow); default local,cross
        --stats-settle S                  workflow: seconds to wait before each pg_stat_database.xact_commit
                                          reading, for xact/run (11; 0 skips the wait and the idle baseline)
        --rate N --workers N              pressure: base enqueues per second (200), handler concurrency (8)
        --phase-seconds S                 pressure: seconds per phase (60); --warmup-seconds S (10, 0 for none)
        --phases LIST                     pressure: which phases, in order (clean,idle-in-tx,rr-readers,overload,recovery)
        --readers N --job-ms N            pressure: REPEATABLE READ readers (4); handler work in ms (1)
        --overload-factor X               pressure: overload rate over clean's completion rate (1.5)
        --sample-seconds S                pressure: seconds between samples within a phase (5)
        --out DIR                         results folder (benchmarks/results)
        --keep-schema                     keep the run's schemas or SQLite file for inspection
      """;

  private BenchMain() {}

  /**
   * Runs one scenario.
   *
   * @param args the scenario name and its options
   */
  public static void main(String[] args) {
    int status = run(args);
    // Drivers and peers leave non-daemon threads behind; the run is over.
    System.exit(status);
  }

  /**
   * Runs one scenario and returns the exit status instead of exiting (for tests).
   *
   * @param args the scenario name and its options
   * @return 0 on success, 2 for bad arguments, 1 for a failure
   */
  public static int run(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.print(USAGE);
      return 2;
    }
    if (options.flag("help") || options.scenario().equals("help")) {
      System.err.print(USAGE);
      return 0;
    }
    try {
      switch (options.scenario()) {
        case "drain" -> new DrainScenario(options).run();
        case "latency" -> new LatencyScenario(options).run();
        case "enqueue" -> new EnqueueScenario(options).run();
        case "workflow" -> new WorkflowScenario(options, false).run();
        case "workflow-latency" -> new WorkflowScenario(options, true).run();
        case "pressure" -> new PressureScenario(options).run();
        case "jmh" -> new JmhScenario(options).run();
        case "report" -> new Report(options.path("out", defaultOut())).run();
        default -> throw new IllegalArgumentException("unknown scenario '" + options.scenario() + "'");
      }
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      Log.info(options.scenario() + " failed: " + e);
      e.printStackTrace(System.err);
      return 1;
    }
  }

  /** {@code benchmarks/results}: under the module directory given by {@code benchmarks/run}, else relative. */
  static Path defaultOut() {
    String home = System.getProperty("pgqrs.bench.home");
    return home == null ? Path.of("benchmarks", "results") : Path.of(home, "results");
  }
}
