package io.pgqrs.spi;

import io.pgqrs.MessageState;
import io.pgqrs.WorkerStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The immutable parameter records of {@link StoreDriver} operations. Inputs are already checked by
 * the engine (names valid, limits positive, payloads validated and serialized). Each record carries
 * an optional {@code now}: null means the database's clock, a value overrides it so tests can move
 * time without sleeping.
 */
public final class StoreParams {

  private StoreParams() {}

  /**
   * Creates a queue.
   *
   * @param queue the queue name
   * @param maxAttempts deliveries before dead-lettering
   * @param now the clock override, or null
   */
  public record CreateQueue(String queue, int maxAttempts, @Nullable Instant now) {}

  /**
   * Deletes a queue.
   *
   * @param queue the queue name
   * @param force delete even with live messages or active workers
   */
  public record DeleteQueue(String queue, boolean force) {}

  /**
   * One message to insert.
   *
   * @param payloadJson the payload, serialized JSON object text
   * @param delay delay relative to the store's now, or null
   * @param visibleAt absolute visibility, or null (at most one of delay and visibleAt is set)
   * @param dedupKey dedup key, or null
   * @param priority priority
   */
  public record NewRow(
      String payloadJson, @Nullable Duration delay, @Nullable Instant visibleAt, @Nullable String dedupKey,
      int priority) {}

  /**
   * Inserts messages, all or none.
   *
   * @param queue the queue name
   * @param rows one or more rows
   * @param now the clock override, or null
   */
  public record Enqueue(String queue, List<NewRow> rows, @Nullable Instant now) {
    /** Copies the list. */
    public Enqueue {
      rows = List.copyOf(rows);
    }
  }

  /**
   * Claims messages.
   *
   * @param queue the queue name
   * @param limit the most messages to claim
   * @param lease the lease length
   * @param workerId the lease owner, or null
   * @param now the clock override, or null
   */
  public record Claim(String queue, int limit, Duration lease, @Nullable Long workerId, @Nullable Instant now) {}

  /**
   * A lease operation target.
   *
   * @param messageId the message
   * @param token the lease token
   * @param now the clock override, or null
   */
  public record LeaseRef(long messageId, UUID token, @Nullable Instant now) {}

  /**
   * Archives several leased messages.
   *
   * @param leases the leases
   * @param now the clock override, or null
   */
  public record ArchiveMany(List<LeaseRef> leases, @Nullable Instant now) {
    /** Copies the list. */
    public ArchiveMany {
      leases = List.copyOf(leases);
    }
  }

  /**
   * Releases a lease.
   *
   * @param lease the lease
   * @param delay delay before the message is claimable again
   * @param error the error to record, or null
   */
  public record Release(LeaseRef lease, Duration delay, @Nullable String error) {}

  /**
   * Extends a lease.
   *
   * @param lease the lease
   * @param duration the new remaining length
   */
  public record Extend(LeaseRef lease, Duration duration) {}

  /**
   * Dead-letters a leased message.
   *
   * @param lease the lease
   * @param error the error to record
   */
  public record DeadLetter(LeaseRef lease, String error) {}

  /**
   * Lists messages of one state.
   *
   * @param queue the queue name
   * @param state the state
   * @param afterId list ids greater than this
   * @param limit the page size
   */
  public record ListMessages(String queue, MessageState state, long afterId, int limit) {}

  /**
   * Replays dead messages.
   *
   * @param queue the queue name
   * @param ids the ids, or null for every dead message of the queue
   * @param now the clock override, or null
   */
  public record Replay(String queue, @Nullable List<Long> ids, @Nullable Instant now) {
    /** Copies the list. */
    public Replay {
      ids = ids == null ? null : List.copyOf(ids);
    }
  }

  /**
   * Deletes messages of one state.
   *
   * @param queue the queue name
   * @param state {@link MessageState#ARCHIVED} or {@link MessageState#DEAD}
   * @param olderThan only messages that entered the state longer ago than this, or null for all
   * @param limit the most rows to delete in this call, or 0 for no bound
   * @param now the clock override, or null
   */
  public record PurgeMessages(
      String queue, MessageState state, @Nullable Duration olderThan, int limit, @Nullable Instant now) {}

  /**
   * Registers a worker.
   *
   * @param name the unique name
   * @param queue the queue, or null
   * @param hostname the host
   * @param pid the process id
   * @param now the clock override, or null
   */
  public record RegisterWorker(
      String name, @Nullable String queue, String hostname, long pid, @Nullable Instant now) {}

  /**
   * Changes a worker's status.
   *
   * @param workerId the worker
   * @param status the new status ({@link WorkerStatus#READY} or {@link WorkerStatus#SUSPENDED})
   */
  public record SetWorkerStatus(long workerId, WorkerStatus status) {}

  /**
   * Stops a worker.
   *
   * @param workerId the worker
   * @param releaseLeases release its leases instead of refusing
   * @param now the clock override, or null
   */
  public record ShutdownWorker(long workerId, boolean releaseLeases, @Nullable Instant now) {}

  /**
   * Records a heartbeat.
   *
   * @param workerId the worker
   * @param now the clock override, or null
   */
  public record Heartbeat(long workerId, @Nullable Instant now) {}

  /**
   * Judges worker health.
   *
   * @param staleAfter heartbeat age beyond which a worker is stale
   * @param now the clock override, or null
   */
  public record WorkerHealthQuery(Duration staleAfter, @Nullable Instant now) {}

  /**
   * Reads queue metrics.
   *
   * @param queue one queue, or null for all
   * @param now the clock override, or null
   */
  public record MetricsQuery(@Nullable String queue, @Nullable Instant now) {}

  /**
   * Runs one maintenance sweep, if it is due (or forced) and no other instance is running one.
   *
   * @param instance who sweeps, recorded on the sweep row (host, process and engine)
   * @param interval how long after this sweep the next one is due
   * @param workerStaleAfter heartbeat age beyond which a ready or suspended worker is stopped and its
   *     leases released
   * @param archiveRetention archived messages older than this are purged
   * @param purgeLimit the most archived messages to purge in this sweep, at least 1
   * @param force sweep even if the next sweep is not due yet (still skipped while another instance
   *     is sweeping)
   * @param now the clock override, or null
   */
  public record Sweep(
      String instance, Duration interval, Duration workerStaleAfter, Duration archiveRetention, int purgeLimit,
      boolean force, @Nullable Instant now) {}
}
