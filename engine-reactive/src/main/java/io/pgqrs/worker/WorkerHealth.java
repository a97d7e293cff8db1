package io.pgqrs.worker;

import java.time.Duration;

/**
 * A worker's liveness as judged by the store's clock.
 *
 * @param worker the worker
 * @param sinceHeartbeat time since its last heartbeat
 * @param stale whether it is not stopped and its last heartbeat is older than the threshold asked for
 * @param leases how many unexpired leases it holds
 */
public record WorkerHealth(WorkerInfo worker, Duration sinceHeartbeat, boolean stale, long leases) {

  /**
   * Whether the worker is alive: not stopped and not stale.
   *
   * @return true if healthy
   */
  public boolean healthy() {
    return worker.status() != WorkerStatus.STOPPED && !stale;
  }
}
