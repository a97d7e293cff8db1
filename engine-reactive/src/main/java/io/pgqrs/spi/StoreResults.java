package io.pgqrs.spi;

import io.pgqrs.Message;
import java.time.Instant;
import java.util.List;

/** Results of {@link StoreDriver} operations that need more than a value type of the public API. */
public final class StoreResults {

  private StoreResults() {}

  /**
   * What enqueue did for one input row.
   *
   * @param id the message id
   * @param inserted false when a live message with the same dedup key existed and its id is returned
   */
  public record Enqueued(long id, boolean inserted) {}

  /**
   * What one claim did.
   *
   * @param claimed messages now leased to the caller
   * @param deadLettered messages that had used their attempts and were moved to the dead state
   */
  public record Claimed(List<Message> claimed, List<Message> deadLettered) {
    /** Copies the lists. */
    public Claimed {
      claimed = List.copyOf(claimed);
      deadLettered = List.copyOf(deadLettered);
    }
  }

  /** Outcome of deleting a queue. */
  public sealed interface QueueDeletion {}

  /** The queue was deleted. */
  public record QueueDeleted() implements QueueDeletion {}

  /** There is no such queue. */
  public record QueueMissing() implements QueueDeletion {}

  /**
   * Deletion was refused.
   *
   * @param liveMessages live messages of the queue
   * @param activeWorkers workers of the queue not stopped
   */
  public record QueueInUse(long liveMessages, long activeWorkers) implements QueueDeletion {}

  /** Outcome of stopping a worker. */
  public sealed interface WorkerShutdown {}

  /**
   * The worker is stopped.
   *
   * @param released how many leases were released
   */
  public record WorkerStopped(long released) implements WorkerShutdown {}

  /** There is no such worker. */
  public record WorkerMissing() implements WorkerShutdown {}

  /**
   * Refused: the worker holds leases.
   *
   * @param leases how many unexpired leases it holds
   */
  public record WorkerBusy(long leases) implements WorkerShutdown {}

  /**
   * What one maintenance sweep did.
   *
   * @param ran false when the sweep was skipped (not due, or another instance was sweeping); the
   *     counts are then zero
   * @param workersReclaimed stale workers marked stopped
   * @param messagesReleased their unexpired leases released, claimable at once
   * @param archivedPurged archived messages deleted for being older than the retention
   * @param at the store's clock when the sweep ran or was skipped
   */
  public record Swept(boolean ran, long workersReclaimed, long messagesReleased, long archivedPurged, Instant at) {}
}
