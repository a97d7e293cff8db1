package io.pgqrs.internal;

import io.pgqrs.admin.LeaseRescuerReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The lease rescuer: stops ready and suspended workers whose heartbeat is older than the stale
 * threshold and releases their unexpired leases, a batch of workers at a time.
 */
final class LeaseRescuer implements MaintenanceWork<LeaseRescuerReport> {

  static final String NAME = "lease-rescuer";

  private final StoreDriver driver;
  private final Duration staleAfter;
  private final int batchSize;

  LeaseRescuer(StoreDriver driver, Duration staleAfter, int batchSize) {
    this.driver = driver;
    this.staleAfter = staleAfter;
    this.batchSize = batchSize;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Mono<LeaseRescuerReport> run(Instant at, BooleanSupplier stopping) {
    return MaintenanceWork.batches(
            () -> driver.rescueStaleWorkers(new StoreParams.RescueStaleWorkers(staleAfter, batchSize, null)),
            rescued -> rescued.workersStopped(), batchSize, stopping)
        .reduce(new LeaseRescuerReport(true, 0, 0, 0, at), (report, rescued) -> new LeaseRescuerReport(true,
            report.workersStopped() + rescued.workersStopped(), report.messagesReleased() + rescued.messagesReleased(),
            report.batches() + 1, at));
  }

  @Override
  public LeaseRescuerReport notTaken(Instant at) {
    return new LeaseRescuerReport(false, 0, 0, 0, at);
  }

  @Override
  public @Nullable String summary(LeaseRescuerReport report) {
    return report.workersStopped() == 0 ? null
        : "stopped " + report.workersStopped() + " stale worker(s), released " + report.messagesReleased()
            + " of their message(s)";
  }
}
