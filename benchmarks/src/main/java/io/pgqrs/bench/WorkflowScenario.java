package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code workflow}: runs/s of the three-step workflow of {@link WorkflowSubject} with W workers
 * (W runs in flight, W callers each triggering a run and awaiting its result), and the
 * trigger-to-result latency of each run. Per worker count the DBOS cell comes first, then the
 * pgqrs cell with the ratio; a subject that is not available is reported with
 * {@code "status":"unavailable"}.
 */
final class WorkflowScenario {

  private final Options options;

  WorkflowScenario(Options options) {
    this.options = options;
  }

  static WorkflowSubject subject(String name) {
    return switch (name) {
      case "pgqrs" -> new PgqrsWorkflowSubject();
      case "dbos" -> new DbosWorkflowSubject();
      default -> throw new IllegalArgumentException("unknown workflow subject '" + name + "' (known: pgqrs, dbos)");
    };
  }

  void run() throws Exception {
    List<Integer> workers = options.integers("workers", List.of(1, 4));
    int runs = options.integer("runs", 2000);
    List<String> names = new ArrayList<>(options.names("subjects", List.of("dbos", "pgqrs")));
    // pgqrs last, so that the last line of a run is a pgqrs cell.
    if (names.remove("pgqrs")) {
      names.add("pgqrs");
    }
    try (Target target = Target.open(options.value("backend"), options.value("url"), "workflow",
        options.flag("keep-schema"))) {
      ObjectNode env = Env.collect(target);
      Log.info("workflow on " + target.describe() + ": " + runs + " runs, workers " + workers + ", subjects " + names);
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "workflow",
          target.backend(), env)) {
        Progress progress = new Progress("workflow", workers.size() * names.size());
        for (int w : workers) {
          Double dbosRate = null;
          for (String name : names) {
            progress.begin(name + " workers=" + w);
            ObjectNode cell = results.cell(name);
            cell.put("workers", w);
            cell.put("runs", runs);
            try (WorkflowSubject subject = subject(name)) {
              if (!subject.available()) {
                cell.put("status", "unavailable");
                cell.put("reason", subject.unavailableReason());
              } else if (name.equals("dbos") && !target.isPostgres()) {
                cell.put("status", "unavailable");
                cell.put("reason", "DBOS Transact needs PostgreSQL");
              } else {
                double rate = measure(target, subject, w, runs, cell);
                if (name.equals("dbos")) {
                  dbosRate = rate;
                } else if (dbosRate != null) {
                  Latencies.put(cell, "dbos_runs_per_s", dbosRate);
                  Latencies.put(cell, "ratio_to_dbos", rate / dbosRate);
                }
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
        Log.info("workflow: results in " + results.file());
      }
    }
  }

  private static double measure(Target target, WorkflowSubject subject, int workers, int runs, ObjectNode cell)
      throws Exception {
    WorkflowTarget wt;
    if (target.isPostgres()) {
      String schema = target.newSchema(subject.name() + "_w" + workers);
      Target.PgServer pg = target.pg();
      wt = new WorkflowTarget(target.backend(), target.pgqrsDsn(schema, Math.max(10, 2 * workers + 2)),
          pg.jdbcUrl(), pg.user(), pg.password(), schema);
    } else {
      wt = new WorkflowTarget(target.backend(), target.pgqrsDsn(null, 10), null, null, null, "");
    }
    subject.setup(wt, workers);
    cell.put("config", subject.configuration());
    int warmup = Math.min(200, Math.max(10, runs / 10));
    drive(subject, "warmup-", warmup, workers, new Latencies());
    Latencies latencies = new Latencies();
    long start = System.nanoTime();
    long done = drive(subject, "run-", runs, workers, latencies);
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = done / seconds;
    cell.put("completed", done);
    cell.put("seconds", Latencies.round(seconds));
    Latencies.put(cell, "runs_per_s", rate);
    latencies.writeTo(cell, "", true);
    return rate;
  }

  /** Runs {@code runs} workflows, {@code workers} at a time, checking every output. */
  private static long drive(WorkflowSubject subject, String prefix, int runs, int workers, Latencies latencies) {
    AtomicLong done = new AtomicLong();
    Flux.range(0, runs)
        .flatMap(i -> {
          String input = prefix + i;
          return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return subject.run(input).doOnNext(out -> {
              latencies.record(System.nanoTime() - t0);
              if (!out.equals(WorkflowSubject.expectedOutput(input))) {
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
