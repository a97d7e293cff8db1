package io.pgqrs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.testing.PostgresDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every scenario with tiny sizes (a few seconds each) against PostgreSQL (found like every
 * other integration test, see {@link PostgresDatabase}) and a SQLite file, and checks that every
 * stdout line is a JSON cell with the documented fields, so the runner never rots. The report runs
 * last, over what the others wrote.
 */
@ExtendWith(PostgresDatabase.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScenarioSmokeTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path out;

  private static String url = "";

  @BeforeAll
  static void server(PostgresDatabase.Target target) {
    url = target.dsnWithoutSchema();
  }

  /** Runs the runner in-process, returns the stdout lines parsed; fails on a non-zero status. */
  private static List<JsonNode> run(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--out");
    all.add(out.toString());
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int status;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      status = BenchMain.run(all.toArray(String[]::new));
    } finally {
      System.setOut(stdout);
    }
    String text = captured.toString(StandardCharsets.UTF_8);
    assertThat(status).as("exit status of %s, stdout:%n%s", all, text).isZero();
    List<JsonNode> cells = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        cells.add(JSON.readTree(line));
      }
    }
    assertThat(cells).as("cells of %s", all).isNotEmpty();
    for (JsonNode c : cells) {
      assertThat(c.has("scenario") && c.has("backend") && c.has("subject") && c.has("status") && c.has("run_id"))
          .as("common fields of %s", c).isTrue();
      assertThat(c.path("env").has("jdk") && c.path("env").has("cpus") && c.path("env").has("git_commit"))
          .as("environment of %s", c).isTrue();
    }
    return cells;
  }

  private static void hasNumbers(JsonNode cell, String... fields) {
    for (String f : fields) {
      assertThat(cell.path(f).isNumber()).as("%s in %s", f, cell).isTrue();
    }
  }

  private static List<JsonNode> subject(List<JsonNode> cells, String subject) {
    return cells.stream().filter(c -> c.path("subject").asText().equals(subject)).toList();
  }

  @Test
  @Order(1)
  void drainOnPostgresWithCeilingAndPeers() throws Exception {
    List<JsonNode> cells = run("drain", "--backend", "postgres", "--url", url, "--messages", "300",
        "--consumers", "1,2", "--batch", "1,10", "--warmup", "100", "--peer-messages", "200");
    List<JsonNode> pgqrs = subject(cells, "pgqrs");
    assertThat(pgqrs).hasSize(4);
    for (JsonNode c : pgqrs) {
      assertThat(c.path("status").asText()).isEqualTo("ok");
      assertThat(c.path("messages").asInt()).isEqualTo(300);
      hasNumbers(c, "consumers", "batch", "messages", "seconds", "msg_per_s", "claim_p50_ms", "claim_p95_ms",
          "claim_p99_ms", "ack_p50_ms", "ack_p95_ms", "ack_p99_ms", "ceiling_msg_per_s", "ratio_to_ceiling",
          "ratio_to_best_peer");
      assertThat(c.path("env").path("postgres_version").asText()).isNotEmpty();
      assertThat(c.path("env").path("synchronous_commit").asText()).isNotEmpty();
    }
    assertThat(subject(cells, "jdbc-ceiling")).hasSize(4).allSatisfy(c -> hasNumbers(c, "msg_per_s"));
    assertThat(subject(cells, "db-scheduler")).hasSize(2).allSatisfy(c -> hasNumbers(c, "msg_per_s"));
    assertThat(subject(cells, "jobrunr")).hasSize(2).allSatisfy(c -> hasNumbers(c, "msg_per_s"));
    JsonNode last = cells.get(cells.size() - 1);
    assertThat(last.path("subject").asText()).isEqualTo("pgqrs");
    assertThat(last.path("consumers").asInt()).isEqualTo(2);
    assertThat(last.path("batch").asInt()).isEqualTo(10);
  }

  @Test
  @Order(2)
  void drainOnPostgresThroughTheConsumerStream() throws Exception {
    List<JsonNode> cells = run("drain", "--url", url, "--messages", "200", "--consumers", "2", "--batch", "10",
        "--api", "stream", "--no-peers", "--no-ceiling", "--warmup", "0");
    assertThat(cells).hasSize(1);
    assertThat(cells.get(0).path("api").asText()).isEqualTo("stream");
    hasNumbers(cells.get(0), "msg_per_s", "ack_p50_ms", "xact_per_msg");
  }

  @Test
  @Order(2)
  void drainOnPostgresThroughTheHandlerRuntime() throws Exception {
    List<JsonNode> cells = run("drain", "--url", url, "--messages", "200", "--consumers", "2", "--batch", "10",
        "--api", "handle", "--no-peers", "--no-ceiling", "--warmup", "0");
    assertThat(cells).hasSize(1);
    assertThat(cells.get(0).path("api").asText()).isEqualTo("handle");
    hasNumbers(cells.get(0), "msg_per_s", "xact_per_msg");
  }

  @Test
  @Order(3)
  void drainOnSqlite() throws Exception {
    List<JsonNode> cells = run("drain", "--backend", "sqlite", "--messages", "300", "--consumers", "1",
        "--batch", "1,50");
    assertThat(cells).hasSize(2).allSatisfy(c -> {
      assertThat(c.path("backend").asText()).isEqualTo("sqlite");
      hasNumbers(c, "msg_per_s", "claim_p50_ms", "ack_p99_ms");
      assertThat(c.path("env").path("sqlite_version").asText()).isNotEmpty();
      assertThat(c.path("env").path("sqlite_synchronous").asText()).isEqualTo("NORMAL");
    });
  }

  @Test
  @Order(4)
  void latencyOnPostgres() throws Exception {
    List<JsonNode> cells = run("latency", "--backend", "postgres", "--url", url, "--rate", "100", "--seconds", "2");
    JsonNode last = cells.get(cells.size() - 1);
    assertThat(last.path("status").asText()).isEqualTo("ok");
    assertThat(last.path("delivered").asLong()).isEqualTo(200);
    hasNumbers(last, "p50_ms", "p95_ms", "p99_ms", "max_ms", "enqueue_p50_ms");
  }

  @Test
  @Order(5)
  void latencyOnSqlite() throws Exception {
    List<JsonNode> cells = run("latency", "--backend", "sqlite", "--rate", "100", "--seconds", "1");
    hasNumbers(cells.get(cells.size() - 1), "p50_ms", "p95_ms", "p99_ms", "max_ms");
  }

  @Test
  @Order(6)
  void enqueueOnPostgres() throws Exception {
    List<JsonNode> cells = run("enqueue", "--url", url, "--producers", "1,2", "--batch", "1,10", "--seconds", "1");
    assertThat(cells).hasSize(4).allSatisfy(c -> hasNumbers(c, "producers", "batch", "messages", "msg_per_s",
        "call_p50_ms", "call_p99_ms"));
  }

  @Test
  @Order(7)
  void workflowRunsDbosAndPgqrs() throws Exception {
    List<JsonNode> cells = run("workflow", "--url", url, "--runs", "20", "--workers", "1,2", "--pgqrs-mode", "local",
        "--stats-settle", "0", "--warmup-seconds", "0");
    for (String name : List.of("dbos", "pgqrs")) {
      assertThat(subject(cells, name)).hasSize(2).allSatisfy(c -> {
        assertThat(c.path("status").asText()).isEqualTo("ok");
        assertThat(c.path("completed").asInt()).isEqualTo(20);
        assertThat(c.path("steps").asInt()).isEqualTo(3);
        hasNumbers(c, "workers", "runs_per_s", "p50_ms", "p99_ms", "pool", "xact_commits", "xact_per_run",
            "xact_per_run_raw", "foreign_sessions");
        // No settle, so no idle baseline.
        assertThat(c.path("xact_idle_per_s").isNull()).as("xact_idle_per_s in %s", c).isTrue();
        // No warm-up seconds: one round of min(200, max(10, runs / 10)) runs.
        assertThat(c.path("warmup_runs").asInt()).as("warmup_runs in %s", c).isEqualTo(10);
      });
    }
    assertThat(subject(cells, "pgqrs-cross")).isEmpty();
    assertThat(cells.get(cells.size() - 1).path("subject").asText()).isEqualTo("pgqrs");
  }

  @Test
  @Order(8)
  void workflowWideWorkerCellsAndTheCrossEngineMode() throws Exception {
    List<JsonNode> cells = run("workflow", "--url", url, "--runs", "64", "--workers", "16,64", "--stats-settle", "1",
        "--warmup-seconds", "0");
    assertThat(cells).extracting(c -> c.path("subject").asText() + "/" + c.path("workers").asInt())
        .containsExactly("dbos/16", "pgqrs-cross/16", "pgqrs/16", "dbos/64", "pgqrs-cross/64", "pgqrs/64");
    for (JsonNode c : cells) {
      assertThat(c.path("status").asText()).as("status of %s", c).isEqualTo("ok");
      assertThat(c.path("completed").asInt()).isEqualTo(64);
      hasNumbers(c, "runs_per_s", "p50_ms", "p99_ms", "pool", "xact_commits", "xact_per_run", "xact_per_run_raw",
          "xact_idle_per_s", "xact_window_s");
      if (!c.path("pool_clamped").asBoolean()) {
        assertThat(c.path("pool").asInt()).as("pool of %s", c).isGreaterThanOrEqualTo(c.path("workers").asInt() + 8);
      }
    }
    assertThat(subject(cells, "pgqrs-cross")).allSatisfy(c -> {
      hasNumbers(c, "trigger_pool", "ratio_to_dbos");
      assertThat(c.path("config").asText()).contains("cross-engine");
    });
    assertThat(subject(cells, "pgqrs")).allSatisfy(c -> assertThat(c.has("trigger_pool")).isFalse());
  }

  @Test
  @Order(9)
  void workflowLatencyOfOneStepRuns() throws Exception {
    List<JsonNode> cells = run("workflow-latency", "--url", url, "--runs", "20", "--stats-settle", "1",
        "--warmup-seconds", "1");
    assertThat(cells).extracting(c -> c.path("subject").asText()).containsExactly("dbos", "pgqrs-cross", "pgqrs");
    for (JsonNode c : cells) {
      assertThat(c.path("scenario").asText()).isEqualTo("workflow-latency");
      assertThat(c.path("status").asText()).as("status of %s", c).isEqualTo("ok");
      assertThat(c.path("completed").asInt()).isEqualTo(20);
      assertThat(c.path("workers").asInt()).isEqualTo(1);
      assertThat(c.path("steps").asInt()).isEqualTo(1);
      hasNumbers(c, "p50_ms", "p95_ms", "p99_ms", "max_ms", "xact_per_run", "xact_per_run_raw");
      // A second of warm-up: rounds of 10 runs until it is over, so at least one.
      assertThat(c.path("warmup_seconds").asInt()).isEqualTo(1);
      assertThat(c.path("warmup_runs").asInt()).as("warmup_runs in %s", c).isPositive().matches(n -> n % 10 == 0);
    }
  }

  @Test
  @Order(9)
  void pressureRunsEveryPhaseWithItsPin() throws Exception {
    List<JsonNode> cells = run("pressure", "--url", url, "--rate", "40", "--workers", "2", "--phase-seconds", "2",
        "--warmup-seconds", "1", "--sample-seconds", "1", "--readers", "2");
    assertThat(cells).extracting(c -> c.path("phase").asText())
        .containsExactly("clean", "idle-in-tx", "rr-readers", "overload", "recovery");
    for (JsonNode c : cells) {
      assertThat(c.path("scenario").asText()).isEqualTo("pressure");
      assertThat(c.path("subject").asText()).isEqualTo("pgqrs");
      assertThat(c.path("status").asText()).as("status of %s", c).isEqualTo("ok");
      hasNumbers(c, "offered_rate", "offered_per_s", "completion_per_s", "completion_pct_of_offered", "pct_of_clean",
          "backlog_end", "claimable_end", "pickup_p50_ms", "pickup_p95_ms", "pickup_p99_ms", "n_dead_tup",
          "n_live_tup", "total_bytes", "n_dead_tup_peak", "completion_per_s_median", "seconds");
      assertThat(c.path("completed").asLong()).as("completed in %s", c).isPositive();
      assertThat(c.path("enqueue_failures").asLong()).isZero();
      assertThat(c.path("tables").has("pgqrs_messages")).as("tables of %s", c).isTrue();
      hasNumbers(c.path("tables").path("pgqrs_messages"), "n_dead_tup", "n_live_tup", "total_bytes");
      assertThat(c.path("samples").size()).as("samples of %s", c).isGreaterThanOrEqualTo(2);
      hasNumbers(c.path("samples").get(0), "completed_per_s", "backlog", "n_dead_tup", "xmin_age_max");
    }
    assertThat(cells.get(1).path("holder_xid").asLong()).isPositive();
    assertThat(cells.get(2).path("readers").asInt()).isEqualTo(2);
    assertThat(cells.get(2).path("reader_scans").asLong()).isGreaterThanOrEqualTo(2);
    assertThat(cells.get(0).path("pinned").asText()).isEqualTo("nothing");
    // The overload offers the factor times what clean completed; the base rate elsewhere.
    assertThat(cells.get(3).path("offered_rate").asDouble())
        .isCloseTo(1.5 * cells.get(0).path("completion_per_s").asDouble(), org.assertj.core.data.Offset.offset(0.01));
    assertThat(cells.get(4).path("offered_rate").asDouble()).isEqualTo(40.0);
  }

  @Test
  @Order(10)
  void jmhSmokeProfile() throws Exception {
    List<JsonNode> cells = run("jmh", "--jmh-profile", "smoke");
    assertThat(cells).hasSizeGreaterThanOrEqualTo(5).allSatisfy(c -> hasNumbers(c, "score"));
    assertThat(cells).extracting(c -> c.path("benchmark").asText())
        .contains("PayloadBenchmarks.validateAndSerializeMap", "ClaimMappingBenchmarks.mapClaimedRow");
  }

  @Test
  @Order(11)
  void reportRendersMarkdownAndCharts() throws Exception {
    assertThat(BenchMain.run(new String[] {"report", "--out", out.toString()})).isZero();
    String md = Files.readString(out.resolve("REPORT.md"));
    assertThat(md).contains("## Machine", "## Targets", "## Drain, PostgreSQL", "## Drain, SQLite", "## Latency",
        "## Enqueue, postgres", "## Workflow (three steps), postgres", "## Workflow latency (one step, idle worker), postgres",
        "## JMH", "pgqrs-cross", "xact/run", "## Pressure, postgres", "| idle-in-tx |");
    // Each consumer API's latest drain gets its own section, described as that API, beside the loop's.
    assertThat(md).contains("## Drain, PostgreSQL, api stream", "## Drain, PostgreSQL, api handle", "statements/msg",
        "(api `loop`)", "(api `stream`)", "(api `handle`)", "drain (api stream)");
    for (String svg : List.of("drain-postgres-vs-consumers.svg", "drain-postgres-vs-batch.svg",
        "drain-postgres-stream-vs-consumers.svg", "drain-postgres-handle-vs-batch.svg",
        "drain-sqlite-vs-batch.svg", "enqueue-postgres.svg")) {
      assertThat(Files.readString(out.resolve(svg))).startsWith("<svg").contains("<polyline", "</svg>");
    }
    assertThat(Files.readString(out.resolve("latency-percentiles.svg"))).startsWith("<svg").contains("<rect", "</svg>");
  }

  @Test
  @Order(12)
  void badArgumentsExitWithTwo() {
    assertThat(BenchMain.run(new String[] {"drain", "--consumers"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"nonsense"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"drain", "--typo", "1"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"workflow", "--pgqrs-mode", "remote"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"workflow", "--subjects", "pgqrs-cross"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"workflow-latency", "--workers", "4"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"pressure", "--backend", "sqlite"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"pressure", "--phases", "clean,nonsense"})).isEqualTo(2);
    assertThat(BenchMain.run(new String[] {"pressure", "--overload-factor", "0"})).isEqualTo(2);
  }
}
