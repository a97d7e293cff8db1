package io.pgqrs.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The job JobRunr runs in the drain: takes the payload and does nothing else, like the pgqrs
 * side. Public with a public static method because JobRunr finds jobs by class and method name.
 */
public final class JobRunrWork {

  private static final AtomicLong FIRST_START = new AtomicLong();

  private JobRunrWork() {}

  /**
   * Handles one job.
   *
   * @param payload the job's JSON payload
   */
  public static void handle(String payload) {
    FIRST_START.compareAndSet(0, System.nanoTime());
    if (payload.isEmpty()) {
      throw new IllegalArgumentException("empty payload");
    }
  }

  static void reset() {
    FIRST_START.set(0);
  }

  static long firstStart() {
    return FIRST_START.get();
  }
}
