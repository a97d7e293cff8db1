package io.pgqrs.internal;

import io.pgqrs.admin.RunReaperReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The run reaper: ends the runs no worker will finish (past their deadline with nobody holding
 * them, or whose trigger message was dead-lettered), a batch of runs at a time.
 */
final class RunReaper implements MaintenanceWork<RunReaperReport> {

  static final String NAME = "run-reaper";

  private final StoreDriver driver;
  private final int batchSize;

  RunReaper(StoreDriver driver, int batchSize) {
    this.driver = driver;
    this.batchSize = batchSize;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Mono<RunReaperReport> run(Instant at, BooleanSupplier stopping) {
    return MaintenanceWork.Count.of(() -> driver.reapRuns(new StoreParams.ReapRuns(batchSize, RunTransitions.reap(), null)), batchSize,
            stopping)
        .map(failed -> new RunReaperReport(true, failed.rows(), failed.batches(), at));
  }

  @Override
  public RunReaperReport notTaken(Instant at) {
    return new RunReaperReport(false, 0, 0, at);
  }

  @Override
  public @Nullable String summary(RunReaperReport report) {
    return report.runsFailed() == 0 ? null : "ended " + report.runsFailed() + " run(s) no worker will finish";
  }
}
