package io.pgqrs.internal;

import io.pgqrs.admin.RunReaperReport;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunStateException;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The run reaper: ends the runs no worker will finish (past their deadline with nobody holding
 * them, or whose trigger message was dead-lettered), a batch of runs at a time, and cancels the
 * children whose parent's cancel did not reach them.
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
        // A batch that cancelled any child is followed by another: the children it cancelled are
        // parents whose own children it could not see yet.
        .flatMap(failed -> MaintenanceWork.batches(this::cancelUncancelledChildren, n -> n > 0 ? batchSize : 0,
                batchSize, stopping)
            .reduce(0L, Long::sum)
            .map(children -> new RunReaperReport(true, failed.rows(), failed.batches(), at, children)));
  }

  /**
   * One batch of the cascade repair: the children a parent's cancel should have cancelled, each
   * cancelled as the parent's cancel would have. A child cancelled this way is a parent whose
   * children the next batch finds, so a whole tree is repaired within a turn (up to its batches).
   * A batch counts the children it found, so one that found a full batch is followed by another; a
   * child that has just finished (its cancel refused) is counted and left as it is.
   *
   * @return the children found
   */
  private Mono<Long> cancelUncancelledChildren() {
    return driver.uncancelledChildren(new StoreParams.CancelledParentsChildren(batchSize, RunTransitions.CASCADE_FROM,
            RunTransitions.CANCEL_FREE.from()))
        .concatMap(child -> driver.controlRun(RunTransitions.cancel(child.childRunId(),
                "parent run " + child.parentRunId() + " was cancelled"))
            .onErrorResume(e -> e instanceof RunStateException || e instanceof RunNotFoundException, e -> Mono.empty())
            .thenReturn(1L))
        .count();
  }

  @Override
  public RunReaperReport notTaken(Instant at) {
    return new RunReaperReport(false, 0, 0, at);
  }

  @Override
  public @Nullable String summary(RunReaperReport report) {
    if (report.runsFailed() == 0 && report.childrenCancelled() == 0) {
      return null;
    }
    String ended = report.runsFailed() == 0 ? null : "ended " + report.runsFailed() + " run(s) no worker will finish";
    String children = report.childrenCancelled() == 0 ? null
        : "cancelled " + report.childrenCancelled() + " child run(s) of cancelled parents";
    return ended == null ? children : children == null ? ended : ended + "; " + children;
  }
}
