package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code jmh}: the micro-benchmarks in {@code io.pgqrs.bench.jmh}, one JSON cell per benchmark
 * (average time per operation). Profiles: {@code short} (the default, about half a minute per
 * benchmark: 1 fork, 2 x 1 s warm-up, 3 x 1 s measurement), {@code full} (2 forks, 5 x 2 s each)
 * and {@code smoke} (in-process, 100 ms each: only proves the benchmarks still run).
 */
final class JmhScenario {

  private final Options options;

  JmhScenario(Options options) {
    this.options = options;
  }

  void run() throws Exception {
    String profile = options.string("jmh-profile", "short");
    ChainedOptionsBuilder b = new OptionsBuilder()
        .include("io\\.pgqrs\\.bench\\.jmh\\..*")
        .shouldFailOnError(true);
    switch (profile) {
      case "smoke" -> b.forks(0).warmupIterations(1).warmupTime(TimeValue.milliseconds(100))
          .measurementIterations(1).measurementTime(TimeValue.milliseconds(100));
      case "short" -> b.forks(1).warmupIterations(2).warmupTime(TimeValue.seconds(1))
          .measurementIterations(3).measurementTime(TimeValue.seconds(1));
      case "full" -> b.forks(2).warmupIterations(5).warmupTime(TimeValue.seconds(2))
          .measurementIterations(5).measurementTime(TimeValue.seconds(2));
      default -> throw new IllegalArgumentException("--jmh-profile must be smoke, short or full, not " + profile);
    }
    // JMH prints its progress on stdout; keep stdout for JSON.
    java.io.PrintStream stdout = System.out;
    Collection<RunResult> runs;
    System.setOut(System.err);
    try {
      runs = new Runner(b.build()).run();
    } finally {
      System.setOut(stdout);
    }
    try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "jmh", "jvm", Env.jvm())) {
      for (RunResult run : runs) {
        Result<?> primary = run.getPrimaryResult();
        ObjectNode cell = results.cell("pgqrs");
        String name = run.getParams().getBenchmark();
        cell.put("benchmark", name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1));
        cell.put("profile", profile);
        cell.put("mode", run.getParams().getMode().shortLabel());
        Latencies.put(cell, "score", primary.getScore());
        Latencies.put(cell, "score_error", primary.getScoreError());
        cell.put("unit", primary.getScoreUnit());
        results.emit(cell);
      }
      Log.info("jmh: results in " + results.file());
    }
  }
}
