package io.pgqrs.internal;

import io.pgqrs.admin.RetentionCleanerReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The retention cleaner: purges what would otherwise grow for ever, each kind a batch at a time
 * after its own retention: dead letters, finished runs with their steps and signals, and stopped
 * workers holding no lease.
 */
final class RetentionCleaner implements MaintenanceWork<RetentionCleanerReport> {

  static final String NAME = "retention-cleaner";

  private final StoreDriver driver;
  private final Duration deadLetterRetention;
  private final Duration finishedRunRetention;
  private final Duration stoppedWorkerRetention;
  private final int batchSize;

  RetentionCleaner(StoreDriver driver, Duration deadLetterRetention, Duration finishedRunRetention,
      Duration stoppedWorkerRetention, int batchSize) {
    this.driver = driver;
    this.deadLetterRetention = deadLetterRetention;
    this.finishedRunRetention = finishedRunRetention;
    this.stoppedWorkerRetention = stoppedWorkerRetention;
    this.batchSize = batchSize;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Mono<RetentionCleanerReport> run(Instant at, BooleanSupplier stopping) {
    Mono<RunsPurged> runs = MaintenanceWork.batches(
            () -> driver.purgeFinishedRuns(new StoreParams.PurgeBatch(finishedRunRetention, batchSize, null)),
            StoreResults.FinishedRunsPurged::runs, batchSize, stopping)
        .reduce(new RunsPurged(0, 0, 0, 0), RunsPurged::plus);
    return MaintenanceWork.Count.of(
            () -> driver.purgeDeadLetters(new StoreParams.PurgeBatch(deadLetterRetention, batchSize, null)), batchSize,
            stopping)
        .flatMap(dead -> runs.flatMap(finished -> MaintenanceWork.Count.of(
                () -> driver.purgeStoppedWorkers(new StoreParams.PurgeBatch(stoppedWorkerRetention, batchSize, null)),
                batchSize, stopping)
            .map(workers -> new RetentionCleanerReport(true, dead.rows(), finished.runs(), finished.steps(),
                finished.signals(), workers.rows(), dead.batches() + finished.batches() + workers.batches(), at))));
  }

  /** The totals of the finished-run batches. */
  private record RunsPurged(long runs, long steps, long signals, int batches) {
    RunsPurged plus(StoreResults.FinishedRunsPurged batch) {
      return new RunsPurged(runs + batch.runs(), steps + batch.steps(), signals + batch.signals(), batches + 1);
    }
  }

  @Override
  public RetentionCleanerReport notTaken(Instant at) {
    return new RetentionCleanerReport(false, 0, 0, 0, 0, 0, 0, at);
  }

  @Override
  public @Nullable String summary(RetentionCleanerReport report) {
    if (report.deadLettersPurged() == 0 && report.runsPurged() == 0 && report.workersPurged() == 0) {
      return null;
    }
    return "purged " + report.deadLettersPurged() + " dead letter(s) older than " + deadLetterRetention + ", "
        + report.runsPurged() + " finished run(s) older than " + finishedRunRetention + " (with "
        + report.stepsPurged() + " step(s) and " + report.signalsPurged() + " signal(s)), "
        + report.workersPurged() + " stopped worker(s) older than " + stoppedWorkerRetention;
  }
}
