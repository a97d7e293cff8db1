package io.pgqrs.internal;

import io.pgqrs.admin.ArchiveCleanerReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** The archive cleaner: purges archived messages older than the archive retention, a batch at a time. */
final class ArchiveCleaner implements MaintenanceWork<ArchiveCleanerReport> {

  static final String NAME = "archive-cleaner";

  private final StoreDriver driver;
  private final Duration retention;
  private final int batchSize;

  ArchiveCleaner(StoreDriver driver, Duration retention, int batchSize) {
    this.driver = driver;
    this.retention = retention;
    this.batchSize = batchSize;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Mono<ArchiveCleanerReport> run(Instant at, BooleanSupplier stopping) {
    return MaintenanceWork.Count.of(
            () -> driver.purgeArchived(new StoreParams.PurgeBatch(retention, batchSize, null)), batchSize, stopping)
        .map(purged -> new ArchiveCleanerReport(true, purged.rows(), purged.batches(), at));
  }

  @Override
  public ArchiveCleanerReport notTaken(Instant at) {
    return new ArchiveCleanerReport(false, 0, 0, at);
  }

  @Override
  public @Nullable String summary(ArchiveCleanerReport report) {
    return report.archivedPurged() == 0 ? null
        : "purged " + report.archivedPurged() + " archived message(s) older than " + retention;
  }
}
