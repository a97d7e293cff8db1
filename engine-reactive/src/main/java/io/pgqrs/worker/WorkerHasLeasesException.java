package io.pgqrs.worker;

import io.pgqrs.PgqrsPermanentException;

/**
 * Shutting down or deleting a worker was refused because it still holds message leases; shut it
 * down with {@code releaseLeases} to hand them back first.
 */
public class WorkerHasLeasesException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long workerId;
  private final long leases;

  /**
   * Creates the exception.
   *
   * @param workerId the worker that holds leases
   * @param leases how many unexpired leases it holds
   * @param message the message
   */
  public WorkerHasLeasesException(long workerId, long leases, String message) {
    super(message, null);
    this.workerId = workerId;
    this.leases = leases;
  }

  /**
   * The worker that holds leases.
   *
   * @return the workerId
   */
  public long workerId() {
    return workerId;
  }

  /**
   * How many unexpired leases it holds.
   *
   * @return the leases
   */
  public long leases() {
    return leases;
  }
}
