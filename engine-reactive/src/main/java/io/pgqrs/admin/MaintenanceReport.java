package io.pgqrs.admin;

import java.time.Instant;

/** What one turn of a {@link MaintenanceService} did; each service's report adds its counts. */
public interface MaintenanceReport {

  /**
   * Whether the turn was taken. False when another instance was taking it at that moment or, for
   * the background loop, when it was not due yet; the counts are then zero.
   *
   * @return whether the service did its work
   */
  boolean ran();

  /**
   * How many batches the turn ran, each a short transaction of at most the batch size; the last
   * one came back short, unless the service was stopped. Zero when the turn was not taken.
   *
   * @return the number of batches
   */
  int batches();

  /**
   * The store's clock when the turn was taken, or looked at.
   *
   * @return the instant
   */
  Instant at();
}
