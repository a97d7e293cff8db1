package io.pgqrs.admin;

import java.time.Instant;

/**
 * What one turn of the run reaper did.
 *
 * @param ran whether the turn was taken (see {@link MaintenanceReport#ran()})
 * @param runsFailed workflow runs ended because no worker will finish them: past their deadline
 *     with no worker holding them (ERROR), or whose trigger message was dead-lettered after repeated
 *     failed deliveries (ERROR); either ends CANCELLED if a cancel was pending
 * @param batches how many batches ran
 * @param at the store's clock when the turn was taken or looked at
 * @param childrenCancelled child runs cancelled because their parent was cancelled (or is being
 *     cancelled) and its cancel did not reach them: the engine that cancelled the parent stopped
 *     before cancelling its children, or a child was started while the parent's cancel was under way
 */
public record RunReaperReport(boolean ran, long runsFailed, int batches, Instant at, long childrenCancelled)
    implements MaintenanceReport {

  /**
   * A report of a turn that cancelled no children.
   *
   * @param ran whether the turn was taken
   * @param runsFailed workflow runs ended
   * @param batches how many batches ran
   * @param at the store's clock when the turn was taken or looked at
   */
  public RunReaperReport(boolean ran, long runsFailed, int batches, Instant at) {
    this(ran, runsFailed, batches, at, 0);
  }
}
