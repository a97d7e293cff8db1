package io.pgqrs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * {@code report}: reads every {@code *.jsonl} of the results folder, keeps the latest run of each
 * scenario and backend (of the PostgreSQL drain, the latest run of each consumer API), and writes
 * {@code REPORT.md} (tables, the pressure phases, the machine, the targets) and SVG charts
 * (throughput vs consumers, throughput vs batch, latency percentiles, enqueue throughput) into the
 * same folder.
 */
final class Report {

  private final Path dir;
  /** scenario/backend -> the cells of its latest run. */
  private final Map<String, List<JsonNode>> latest = new TreeMap<>();
  /**
   * Consumer API ({@code loop}, {@code stream}, {@code handle}) -> the cells of the latest
   * PostgreSQL drain run through it, its peers included: one run drains through one API, so the
   * latest run alone would hide the others.
   */
  private final Map<String, List<JsonNode>> latestDrainByApi = new TreeMap<>(Comparator.comparingInt(Report::apiRank)
      .thenComparing(Comparator.naturalOrder()));
  private final List<String> charts = new ArrayList<>();

  Report(Path dir) {
    this.dir = dir;
  }

  void run() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("no results folder " + dir + " (run a scenario first)");
    }
    Map<String, TreeMap<String, List<JsonNode>>> runs = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          if (line.isBlank()) {
            continue;
          }
          JsonNode cell = Json.MAPPER.readTree(line);
          String key = text(cell, "scenario") + "/" + text(cell, "backend");
          runs.computeIfAbsent(key, k -> new TreeMap<>())
              .computeIfAbsent(text(cell, "run_id"), k -> new ArrayList<>()).add(cell);
        }
      }
    }
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("no results in " + dir + " (run a scenario first)");
    }
    runs.forEach((key, byRun) -> latest.put(key, byRun.lastEntry().getValue()));
    // Run ids sort by time, so the last run of each API wins; the targets read the loop's.
    runs.getOrDefault("drain/postgres", new TreeMap<>()).values().forEach(cells -> cells.stream()
        .filter(subject("pgqrs")).findFirst().ifPresent(c -> latestDrainByApi.put(apiOf(c), cells)));
    if (latestDrainByApi.containsKey("loop")) {
      latest.put("drain/postgres", latestDrainByApi.get("loop"));
    }
    StringBuilder md = new StringBuilder();
    md.append("# pgqrs benchmark report\n\n");
    md.append("Generated ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
        .append(" by `benchmarks/run report` from the latest run of each scenario in this folder.\n\n");
    machine(md);
    targets(md);
    drainPostgres(md);
    drainOther(md, "sqlite");
    drainOther(md, "turso");
    latency(md);
    enqueue(md);
    workflow(md);
    pressure(md);
    jmh(md);
    md.append("## Runs\n\n| scenario | backend | run | git commit |\n|---|---|---|---|\n");
    latest.forEach((key, cells) -> runRow(md, cells.get(0), ""));
    latestDrainByApi.forEach((api, cells) -> {
      if (cells != latest.get("drain/postgres")) {
        runRow(md, cells.get(0), " (api " + api + ")");
      }
    });
    Files.writeString(dir.resolve("REPORT.md"), md.toString(), StandardCharsets.UTF_8);
    Log.info("report: wrote " + dir.resolve("REPORT.md") + " and " + charts.size() + " charts " + charts);
  }

  private static void runRow(StringBuilder md, JsonNode c, String note) {
    md.append("| ").append(text(c, "scenario")).append(note).append(" | ").append(text(c, "backend")).append(" | ")
        .append(text(c, "run_id")).append(" | ").append(text(c.path("env"), "git_commit")).append(" |\n");
  }

  /** The consumer API a drain cell went through; cells written before the API was recorded used the loop. */
  private static String apiOf(JsonNode cell) {
    String api = text(cell, "api");
    return api.isEmpty() ? "loop" : api;
  }

  private static int apiRank(String api) {
    int i = List.of("loop", "stream", "handle").indexOf(api);
    return i < 0 ? 3 : i;
  }

  /** What C consumers at batch B do through an API, as the drain scenario runs it. */
  private static String apiDescription(String api) {
    return switch (api) {
      case "loop" -> "loop `claim(B)` then `archiveAll`";
      case "stream" -> "subscribe to `deliveries()` with `batchSize(B)` and ack each delivery (`flatMap(ack, 2B)`)";
      case "handle" -> "subscribe to `handle()` with a handler that returns at once, concurrency 2B, the default "
          + "prefetch";
      default -> "drain through api `" + api + "`";
    };
  }

  private List<JsonNode> cells(String scenario, String backend, Predicate<JsonNode> filter) {
    return latest.getOrDefault(scenario + "/" + backend, List.of()).stream().filter(filter).toList();
  }

  private static Predicate<JsonNode> subject(String name) {
    return c -> name.equals(text(c, "subject"));
  }

  private void machine(StringBuilder md) {
    JsonNode env = null;
    for (String key : List.of("drain/postgres", "latency/postgres", "enqueue/postgres", "drain/sqlite")) {
      if (latest.containsKey(key)) {
        env = latest.get(key).get(0).path("env");
        break;
      }
    }
    if (env == null) {
      env = latest.values().iterator().next().get(0).path("env");
    }
    md.append("## Machine\n\n");
    md.append("- CPU: ").append(text(env, "cpu_model")).append(", ").append(text(env, "cpus"))
        .append(" cores visible to the JVM; memory ").append(text(env, "mem_total")).append("\n");
    md.append("- OS: ").append(text(env, "os")).append("\n");
    md.append("- JDK: ").append(text(env, "jdk")).append(" (heap up to ").append(text(env, "max_heap_mb"))
        .append(" MB)\n");
    for (Map.Entry<String, List<JsonNode>> e : latest.entrySet()) {
      JsonNode en = e.getValue().get(0).path("env");
      if (en.has("postgres_version")) {
        md.append("- PostgreSQL ").append(text(en, "postgres_version")).append(", synchronous_commit=")
            .append(text(en, "synchronous_commit")).append(", fsync=").append(text(en, "fsync"))
            .append(", shared_buffers=").append(text(en, "shared_buffers"))
            .append(en.path("postgres_same_host").asBoolean() ? ", on the same host" : ", on another host")
            .append("\n");
        break;
      }
    }
    for (Map.Entry<String, List<JsonNode>> e : latest.entrySet()) {
      JsonNode en = e.getValue().get(0).path("env");
      if (en.has("sqlite_version")) {
        md.append("- SQLite ").append(text(en, "sqlite_version")).append(", synchronous=")
            .append(text(en, "sqlite_synchronous")).append(", journal_mode=")
            .append(en.has("sqlite_journal_mode") ? text(en, "sqlite_journal_mode") : "wal").append("\n");
        break;
      }
    }
    md.append("\n");
  }

  private void targets(StringBuilder md) {
    md.append("## Targets\n\n| target | measured | verdict |\n|---|---|---|\n");
    List<JsonNode> pg = cells("drain", "postgres", subject("pgqrs"));
    JsonNode c450 = pg.stream().filter(c -> c.path("consumers").asInt() == 4 && c.path("batch").asInt() == 50)
        .findFirst().orElse(null);
    if (c450 != null && c450.has("ratio_to_ceiling")) {
      double r = c450.path("ratio_to_ceiling").asDouble();
      row(md, "drain 4 consumers x batch 50 >= 80% of the same-run JDBC ceiling",
          pct(r) + " (" + num(c450, "msg_per_s") + " vs " + num(c450, "ceiling_msg_per_s") + " msg/s)", r >= 0.8);
    } else {
      md.append("| drain 4 x 50 >= 80% of ceiling | not measured | - |\n");
    }
    List<JsonNode> withPeers = pg.stream().filter(c -> c.has("ratio_to_best_peer")).toList();
    if (!withPeers.isEmpty()) {
      JsonNode worst = withPeers.stream().min(Comparator.comparingDouble(c -> c.path("ratio_to_best_peer").asDouble()))
          .orElseThrow();
      double r = worst.path("ratio_to_best_peer").asDouble();
      long atLeast3 = withPeers.stream().filter(c -> c.path("ratio_to_best_peer").asDouble() >= 3).count();
      row(md, "every drain cell >= 3x the fastest peer", atLeast3 + " of " + withPeers.size() + " cells; lowest "
          + String.format(Locale.ROOT, "%.2fx", r) + " (" + worst.path("consumers").asInt() + " x "
          + worst.path("batch").asInt() + " vs " + text(worst, "best_peer") + ")", r >= 3);
    } else {
      md.append("| every drain cell >= 3x the fastest peer | not measured | - |\n");
    }
    List<JsonNode> wf = cells("workflow", "postgres", subject("pgqrs"));
    if (wf.stream().anyMatch(c -> c.has("ratio_to_dbos"))) {
      double r = wf.stream().filter(c -> c.has("ratio_to_dbos")).mapToDouble(c -> c.path("ratio_to_dbos").asDouble())
          .min().orElse(0);
      row(md, "workflow runs/s >= 2x DBOS", String.format(Locale.ROOT, "lowest %.2fx", r), r >= 2);
    } else {
      md.append("| workflow runs/s >= 2x DBOS | not measured: the pgqrs workflow API is not in this build | - |\n");
    }
    List<JsonNode> lat = cells("latency", "postgres", subject("pgqrs"));
    if (!lat.isEmpty()) {
      double p50 = lat.get(lat.size() - 1).path("p50_ms").asDouble();
      row(md, "latency p50 < 5 ms (PostgreSQL)", num(lat.get(lat.size() - 1), "p50_ms") + " ms", p50 < 5);
    } else {
      md.append("| latency p50 < 5 ms | not measured | - |\n");
    }
    JsonNode s150 = cells("drain", "sqlite", subject("pgqrs")).stream()
        .filter(c -> c.path("consumers").asInt() == 1 && c.path("batch").asInt() == 50).findFirst().orElse(null);
    if (s150 != null) {
      row(md, "SQLite drain 1 x 50 > 30,000 msg/s", num(s150, "msg_per_s") + " msg/s",
          s150.path("msg_per_s").asDouble() > 30_000);
    } else {
      md.append("| SQLite drain 1 x 50 > 30,000 msg/s | not measured | - |\n");
    }
    md.append("\n");
  }

  private static void row(StringBuilder md, String target, String measured, boolean met) {
    md.append("| ").append(target).append(" | ").append(measured).append(" | ").append(met ? "met" : "**missed**")
        .append(" |\n");
  }

  /** A section per consumer API, each from the latest PostgreSQL drain run through it. */
  private void drainPostgres(StringBuilder md) throws IOException {
    for (Map.Entry<String, List<JsonNode>> run : latestDrainByApi.entrySet()) {
      drainPostgres(md, run.getKey(), run.getValue());
    }
  }

  private void drainPostgres(StringBuilder md, String api, List<JsonNode> run) throws IOException {
    List<JsonNode> pg = run.stream().filter(subject("pgqrs")).toList();
    List<JsonNode> ceiling = run.stream().filter(subject("jdbc-ceiling")).toList();
    List<JsonNode> peers = run.stream().filter(c -> !text(c, "subject").equals("pgqrs")
        && !text(c, "subject").equals("jdbc-ceiling")).toList();
    // The loop keeps the section title and chart names it always had.
    String suffix = api.equals("loop") ? "" : "-" + api;
    String titled = api.equals("loop") ? "" : " (" + api + ")";
    TreeSet<String> peerNames = new TreeSet<>();
    peers.forEach(p -> peerNames.add(text(p, "subject")));
    JsonNode first = pg.get(0);
    md.append("## Drain, PostgreSQL").append(api.equals("loop") ? "" : ", api " + api).append("\n\n");
    md.append(first.path("messages").asInt()).append(" messages of ~256 bytes prefilled per cell")
        .append(first.path("repeat").asInt(1) > 1 ? ", median of " + first.path("repeat").asInt() + " alternating "
            + "ceiling/pgqrs drains per cell (peers once)" : "").append("; C consumers each ")
        .append(apiDescription(api)).append(" (api `").append(api).append("`). The ceiling runs ")
        .append("the engine's own claim and archive SQL over plain JDBC from C threads on the same backlog; peers ")
        .append("drain the same number of jobs with C worker threads (batch does not apply to them).\n\n");
    md.append("| consumers | batch | pgqrs msg/s | ceiling msg/s | % of ceiling |");
    for (String p : peerNames) {
      md.append(' ').append(p).append(" msg/s |");
    }
    md.append(" x fastest peer | claim p50 / p99 ms | ack p50 / p99 ms | statements/msg |\n|---|---|---|---|---|");
    md.append("---|".repeat(peerNames.size())).append("---|---|---|---|\n");
    for (JsonNode c : pg) {
      int cons = c.path("consumers").asInt();
      md.append("| ").append(cons).append(" | ").append(c.path("batch").asInt()).append(" | ")
          .append(num(c, "msg_per_s")).append(" | ").append(c.has("ceiling_msg_per_s") ? num(c, "ceiling_msg_per_s") : "-")
          .append(" | ").append(c.has("ratio_to_ceiling") ? pct(c.path("ratio_to_ceiling").asDouble()) : "-").append(" |");
      for (String p : peerNames) {
        JsonNode pc = peers.stream().filter(x -> text(x, "subject").equals(p) && x.path("consumers").asInt() == cons)
            .findFirst().orElse(null);
        md.append(' ').append(pc == null ? "-" : num(pc, "msg_per_s")).append(" |");
      }
      md.append(' ').append(c.has("ratio_to_best_peer")
              ? String.format(Locale.ROOT, "%.1fx", c.path("ratio_to_best_peer").asDouble()) : "-")
          .append(" | ").append(num(c, "claim_p50_ms")).append(" / ").append(num(c, "claim_p99_ms"))
          .append(" | ").append(num(c, "ack_p50_ms")).append(" / ").append(num(c, "ack_p99_ms"))
          .append(" | ").append(num(c, "xact_per_msg")).append(" |\n");
    }
    md.append("\nPeer configuration:\n\n");
    for (String p : peerNames) {
      peers.stream().filter(x -> text(x, "subject").equals(p)).reduce((a, b) -> b)
          .ifPresent(x -> md.append("- **").append(p).append("**: ").append(text(x, "config")).append("\n"));
    }
    md.append("- **jdbc-ceiling**: ").append(ceiling.isEmpty() ? "not run" : text(ceiling.get(0), "config")).append("\n\n");
    List<String> consumersCat = distinct(pg, "consumers");
    List<String> batchCat = distinct(pg, "batch");
    // pgqrs solid, its ceiling dashed in the same colour; peers dotted.
    List<Svg.Series> byConsumers = new ArrayList<>();
    for (int i = 0; i < batchCat.size(); i++) {
      String b = batchCat.get(i);
      byConsumers.add(new Svg.Series("pgqrs batch " + b, values(pg, "consumers", consumersCat, "batch", b), "", i));
      byConsumers.add(new Svg.Series("ceiling batch " + b, values(ceiling, "consumers", consumersCat, "batch", b),
          "6 4", i));
    }
    for (int i = 0; i < peerNames.size(); i++) {
      String p = List.copyOf(peerNames).get(i);
      List<JsonNode> pp = peers.stream().filter(x -> text(x, "subject").equals(p)).toList();
      byConsumers.add(new Svg.Series(p, values(pp, "consumers", consumersCat, null, null), "2 3",
          batchCat.size() + i));
    }
    String byConsumersTitle = "Drain throughput vs consumers (PostgreSQL" + titled + ")";
    chart(md, "drain-postgres" + suffix + "-vs-consumers.svg", byConsumersTitle,
        Svg.lineChart(byConsumersTitle, "consumers", "messages / s", consumersCat, byConsumers));
    List<Svg.Series> byBatch = new ArrayList<>();
    for (int i = 0; i < consumersCat.size(); i++) {
      String c = consumersCat.get(i);
      byBatch.add(new Svg.Series("pgqrs " + c + " consumers", values(pg, "batch", batchCat, "consumers", c), "", i));
      byBatch.add(new Svg.Series("ceiling " + c + " consumers", values(ceiling, "batch", batchCat, "consumers", c),
          "6 4", i));
    }
    String byBatchTitle = "Drain throughput vs batch (PostgreSQL" + titled + ")";
    chart(md, "drain-postgres" + suffix + "-vs-batch.svg", byBatchTitle,
        Svg.lineChart(byBatchTitle, "batch size", "messages / s", batchCat, byBatch));
  }

  private void drainOther(StringBuilder md, String backend) throws IOException {
    List<JsonNode> cells = cells("drain", backend, subject("pgqrs"));
    if (cells.isEmpty()) {
      return;
    }
    md.append("## Drain, ").append(backend.equals("sqlite") ? "SQLite" : "Turso").append("\n\n")
        .append(cells.get(0).path("messages").asInt()).append(" messages per cell.\n\n")
        .append("| consumers | batch | msg/s | claim p50 / p99 ms | ack p50 / p99 ms |\n|---|---|---|---|---|\n");
    for (JsonNode c : cells) {
      md.append("| ").append(c.path("consumers").asInt()).append(" | ").append(c.path("batch").asInt()).append(" | ")
          .append(num(c, "msg_per_s")).append(" | ").append(num(c, "claim_p50_ms")).append(" / ")
          .append(num(c, "claim_p99_ms")).append(" | ").append(num(c, "ack_p50_ms")).append(" / ")
          .append(num(c, "ack_p99_ms")).append(" |\n");
    }
    md.append('\n');
    List<String> batchCat = distinct(cells, "batch");
    List<Svg.Series> series = new ArrayList<>();
    for (String c : distinct(cells, "consumers")) {
      series.add(new Svg.Series(c + " consumers", values(cells, "batch", batchCat, "consumers", c), ""));
    }
    String title = "Drain throughput vs batch (" + (backend.equals("sqlite") ? "SQLite" : "Turso") + ")";
    chart(md, "drain-" + backend + "-vs-batch.svg", title,
        Svg.lineChart(title, "batch size", "messages / s", batchCat, series));
  }

  private void latency(StringBuilder md) throws IOException {
    List<JsonNode> all = new ArrayList<>();
    for (String backend : List.of("postgres", "sqlite", "turso")) {
      all.addAll(cells("latency", backend, subject("pgqrs")));
    }
    if (all.isEmpty()) {
      return;
    }
    md.append("## Latency: enqueue commit to handler start\n\n")
        .append("One producer enqueues single messages at a fixed rate (open loop); idle consumers subscribed with ")
        .append("`handle(...)` wake on LISTEN/NOTIFY (PostgreSQL) or in-process signals (SQLite).\n\n")
        .append("| backend | rate/s | seconds | consumers | delivered | p50 ms | p95 ms | p99 ms | max ms | enqueue p50 ms |\n")
        .append("|---|---|---|---|---|---|---|---|---|---|\n");
    List<Svg.Group> groups = new ArrayList<>();
    for (JsonNode c : all) {
      md.append("| ").append(text(c, "backend")).append(" | ").append(c.path("rate").asInt()).append(" | ")
          .append(c.path("seconds").asInt()).append(" | ").append(c.path("consumers").asInt()).append(" | ")
          .append(c.path("delivered").asLong()).append('/').append(c.path("messages").asLong()).append(" | ")
          .append(num(c, "p50_ms")).append(" | ").append(num(c, "p95_ms")).append(" | ").append(num(c, "p99_ms"))
          .append(" | ").append(num(c, "max_ms")).append(" | ").append(num(c, "enqueue_p50_ms")).append(" |\n");
      groups.add(new Svg.Group(text(c, "backend") + " @ " + c.path("rate").asInt() + "/s",
          List.of(val(c, "p50_ms"), val(c, "p95_ms"), val(c, "p99_ms"), val(c, "max_ms"))));
    }
    md.append('\n');
    chart(md, "latency-percentiles.svg", "Latency percentiles",
        Svg.barChart("Enqueue commit to handler start", "milliseconds", List.of("p50", "p95", "p99", "max"), groups));
  }

  private void enqueue(StringBuilder md) throws IOException {
    for (String backend : List.of("postgres", "sqlite", "turso")) {
      List<JsonNode> cells = cells("enqueue", backend, subject("pgqrs"));
      if (cells.isEmpty()) {
        continue;
      }
      md.append("## Enqueue, ").append(backend).append("\n\n")
          .append("| producers | batch | msg/s | call p50 / p99 ms |\n|---|---|---|---|\n");
      for (JsonNode c : cells) {
        md.append("| ").append(c.path("producers").asInt()).append(" | ").append(c.path("batch").asInt()).append(" | ")
            .append(num(c, "msg_per_s")).append(" | ").append(num(c, "call_p50_ms")).append(" / ")
            .append(num(c, "call_p99_ms")).append(" |\n");
      }
      md.append('\n');
      List<String> batchCat = distinct(cells, "batch");
      List<Svg.Series> series = new ArrayList<>();
      for (String p : distinct(cells, "producers")) {
        series.add(new Svg.Series(p + " producer(s)", values(cells, "batch", batchCat, "producers", p), ""));
      }
      String title = "Enqueue throughput vs batch (" + backend + ")";
      chart(md, "enqueue-" + backend + ".svg", title, Svg.lineChart(title, "batch size", "messages / s", batchCat, series));
    }
  }

  private void workflow(StringBuilder md) {
    for (String backend : List.of("postgres", "sqlite", "turso")) {
      List<JsonNode> cells = cells("workflow", backend, c -> true);
      if (cells.isEmpty()) {
        continue;
      }
      md.append("## Workflow (three steps), ").append(backend).append("\n\n")
          .append("W callers each trigger a run and await its result, W runs in flight. `pgqrs` triggers and ")
          .append("executes in one store; `pgqrs-cross` triggers in a store with no worker and executes in a second ")
          .append("store (own pool), so every run goes through the queue.").append(xactNote(cells)).append("\n\n")
          .append("| workers | subject | runs/s | trigger-to-result p50 / p99 ms | xact/run | pool | status |\n")
          .append("|---|---|---|---|---|---|---|\n");
      for (JsonNode c : cells) {
        md.append("| ").append(c.path("workers").asInt()).append(" | ").append(text(c, "subject")).append(" | ")
            .append(c.has("runs_per_s") ? num(c, "runs_per_s") : "-").append(" | ")
            .append(c.has("p50_ms") ? num(c, "p50_ms") + " / " + num(c, "p99_ms") : "-").append(" | ")
            .append(xactPerRun(c)).append(" | ").append(pools(c)).append(" | ")
            .append(text(c, "status")).append(c.has("reason") ? ": " + text(c, "reason") : "").append(" |\n");
      }
      cells.stream().filter(c -> c.has("config") && text(c, "subject").equals("dbos")).reduce((a, b) -> b)
          .ifPresent(c -> md.append("\nDBOS configuration: ").append(text(c, "config")).append("\n"));
      md.append('\n');
    }
    for (String backend : List.of("postgres", "sqlite", "turso")) {
      List<JsonNode> cells = cells("workflow-latency", backend, c -> true);
      if (cells.isEmpty()) {
        continue;
      }
      md.append("## Workflow latency (one step, idle worker), ").append(backend).append("\n\n")
          .append("One caller triggers a run of a one-step workflow, awaits its result, then triggers the next; ")
          .append("the worker is idle at every trigger.").append(xactNote(cells)).append("\n\n")
          .append("| subject | runs | p50 ms | p95 ms | p99 ms | max ms | xact/run | status |\n")
          .append("|---|---|---|---|---|---|---|---|\n");
      for (JsonNode c : cells) {
        md.append("| ").append(text(c, "subject")).append(" | ").append(c.path("runs").asInt()).append(" | ")
            .append(num(c, "p50_ms")).append(" | ").append(num(c, "p95_ms")).append(" | ")
            .append(num(c, "p99_ms")).append(" | ").append(num(c, "max_ms")).append(" | ")
            .append(xactPerRun(c)).append(" | ")
            .append(text(c, "status")).append(c.has("reason") ? ": " + text(c, "reason") : "").append(" |\n");
      }
      md.append('\n');
    }
  }

  private void pressure(StringBuilder md) {
    List<JsonNode> cells = cells("pressure", "postgres", subject("pgqrs"));
    if (cells.isEmpty()) {
      return;
    }
    JsonNode first = cells.get(0);
    md.append("## Pressure, postgres\n\n")
        .append("A producer enqueues at a fixed rate (open loop, ").append(first.path("rate").asInt())
        .append("/s base) and one consumer runs `handle()` with ").append(first.path("workers").asInt())
        .append(" handlers of ").append(first.path("job_ms").asInt()).append(" ms, through phases of ")
        .append(first.path("phase_seconds").asInt()).append(" s: `idle-in-tx` holds an XID in an idle transaction, ")
        .append("`rr-readers` keeps REPEATABLE READ readers scanning `pgqrs_messages`, `overload` offers ")
        .append(num(first, "overload_factor")).append("x what `clean` completed, `recovery` is the base rate again. ")
        .append("Pickup: `enqueuedAt` to handler start. Tuples and size: `pg_stat_user_tables` of the pgqrs tables ")
        .append("at phase end, before the pin is released. In brackets: the median completed/s over the phase's ")
        .append(first.path("sample_seconds").asInt()).append(" s samples, and the peak dead tuples among them.\n\n")
        .append("| phase | offered/s | completed/s (median) | % of offered | % of clean | backlog at end | ")
        .append("pickup p50 / p95 / p99 ms | dead tuples (peak) | live tuples | size MB | status |\n")
        .append("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (JsonNode c : cells) {
      md.append("| ").append(text(c, "phase")).append(" | ").append(num(c, "offered_per_s")).append(" | ")
          .append(num(c, "completion_per_s")).append(" (").append(num(c, "completion_per_s_median")).append(") | ")
          .append(c.path("completion_pct_of_offered").isNumber()
              ? String.format(Locale.ROOT, "%.0f%%", c.path("completion_pct_of_offered").asDouble()) : "-")
          .append(" | ").append(c.path("pct_of_clean").isNumber()
              ? String.format(Locale.ROOT, "%.0f%%", c.path("pct_of_clean").asDouble()) : "-")
          .append(" | ").append(c.path("backlog_end").asLong()).append(" | ").append(num(c, "pickup_p50_ms"))
          .append(" / ").append(num(c, "pickup_p95_ms")).append(" / ").append(num(c, "pickup_p99_ms")).append(" | ")
          .append(c.path("n_dead_tup").asLong()).append(" (").append(c.path("n_dead_tup_peak").asLong()).append(") | ")
          .append(c.path("n_live_tup").asLong()).append(" | ")
          .append(String.format(Locale.ROOT, "%.1f", c.path("total_bytes").asLong() / 1048576.0)).append(" | ")
          .append(text(c, "status")).append(" |\n");
    }
    md.append('\n');
  }

  /** What the xact/run column means, when the cells have one. */
  private static String xactNote(List<JsonNode> cells) {
    JsonNode c = cells.stream().filter(x -> x.path("xact_per_run").isNumber()).findFirst().orElse(null);
    if (c == null) {
      return "";
    }
    return " xact/run: committed transactions per run on the database (`pg_stat_database.xact_commit`, each "
        + "reading after a settle of " + c.path("xact_settle_s").asDouble() + " s), net of the idle rate measured "
        + "just before the runs; raw in brackets.";
  }

  /** {@code net (raw)} committed transactions per run, with a mark when other sessions were connected. */
  private static String xactPerRun(JsonNode c) {
    if (!c.path("xact_per_run").isNumber()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2f (%.2f)", c.path("xact_per_run").asDouble(),
        c.path("xact_per_run_raw").asDouble())
        + (c.path("foreign_sessions").asLong() > 0 ? " *" + c.path("foreign_sessions").asLong() + " other sessions*" : "");
  }

  private static String pools(JsonNode c) {
    if (!c.path("pool").isNumber()) {
      return "-";
    }
    return c.path("pool").asInt() + (c.path("trigger_pool").isNumber() ? " + " + c.path("trigger_pool").asInt() : "")
        + (c.path("pool_clamped").asBoolean() ? " (clamped)" : "");
  }

  private void jmh(StringBuilder md) {
    List<JsonNode> cells = cells("jmh", "jvm", c -> true);
    if (cells.isEmpty()) {
      return;
    }
    md.append("## JMH micro-benchmarks (profile ").append(text(cells.get(0), "profile")).append(")\n\n")
        .append("| benchmark | score | error | unit |\n|---|---|---|---|\n");
    for (JsonNode c : cells) {
      md.append("| ").append(text(c, "benchmark")).append(" | ").append(num(c, "score")).append(" | ")
          .append(c.path("score_error").isNull() ? "-" : num(c, "score_error")).append(" | ")
          .append(text(c, "unit")).append(" |\n");
    }
    md.append('\n');
  }

  private void chart(StringBuilder md, String file, String title, String svg) throws IOException {
    Files.writeString(dir.resolve(file), svg, StandardCharsets.UTF_8);
    charts.add(file);
    md.append("![").append(title).append("](").append(file).append(")\n\n");
  }

  private static List<String> distinct(List<JsonNode> cells, String field) {
    TreeSet<Integer> values = new TreeSet<>();
    for (JsonNode c : cells) {
      if (c.path(field).isNumber()) {
        values.add(c.path(field).asInt());
      }
    }
    return values.stream().map(String::valueOf).toList();
  }

  /** msg_per_s of the cells, one per category of {@code xField}, among cells whose {@code keyField} is {@code key}. */
  private static List<@Nullable Double> values(List<JsonNode> cells, String xField, List<String> categories,
      @Nullable String keyField, @Nullable String key) {
    List<@Nullable Double> out = new ArrayList<>();
    for (String x : categories) {
      Double v = null;
      for (JsonNode c : cells) {
        if (String.valueOf(c.path(xField).asInt()).equals(x)
            && (keyField == null || String.valueOf(c.path(keyField).asInt()).equals(key))
            && c.path("msg_per_s").isNumber()) {
          v = c.path("msg_per_s").asDouble();
        }
      }
      out.add(v);
    }
    return out;
  }

  private static @Nullable Double val(JsonNode c, String field) {
    return c.path(field).isNumber() ? c.path(field).asDouble() : null;
  }

  private static String num(JsonNode c, String field) {
    JsonNode v = c.path(field);
    if (!v.isNumber()) {
      return "-";
    }
    double d = v.asDouble();
    return d >= 1000 ? String.format(Locale.ROOT, "%,.0f", d) : d >= 100 ? String.format(Locale.ROOT, "%.0f", d)
        : String.format(Locale.ROOT, "%.2f", d);
  }

  private static String pct(double ratio) {
    return String.format(Locale.ROOT, "%.0f%%", ratio * 100);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isMissingNode() || v.isNull() ? "" : Objects.requireNonNullElse(v.asText(), "");
  }
}
