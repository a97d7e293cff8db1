package io.pgqrs.admin;

import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.worker.WorkerStatus;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Counts for the whole schema: every queue's metrics summed, plus worker counts.
 *
 * @param queues how many queues exist
 * @param pending claimable messages over all queues
 * @param leased leased messages over all queues
 * @param delayed delayed messages over all queues
 * @param archived archived messages over all queues
 * @param dead dead-lettered messages over all queues
 * @param oldestPendingAge the largest {@link QueueMetrics#oldestPendingAge()} of any queue
 * @param workersReady workers in state {@link WorkerStatus#READY}
 * @param workersSuspended workers in state {@link WorkerStatus#SUSPENDED}
 * @param workersStopped workers in state {@link WorkerStatus#STOPPED}
 * @param perQueue the metrics of each queue, ordered by name
 */
public record SystemMetrics(
    long queues,
    long pending,
    long leased,
    long delayed,
    long archived,
    long dead,
    @Nullable Duration oldestPendingAge,
    long workersReady,
    long workersSuspended,
    long workersStopped,
    List<QueueMetrics> perQueue) {

  /** Makes the per-queue list unmodifiable. */
  public SystemMetrics {
    perQueue = List.copyOf(perQueue);
  }
}
