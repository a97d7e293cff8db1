package io.pgqrs.bench;

import java.time.Duration;

/** "cell n of m, elapsed, ETA" on stderr, for runs that take minutes. */
final class Progress {

  private final String scenario;
  private final int total;
  private final long start = System.nanoTime();
  private int done;

  Progress(String scenario, int total) {
    this.scenario = scenario;
    this.total = total;
  }

  /** Announces the next cell. */
  void begin(String cell) {
    long elapsed = System.nanoTime() - start;
    String eta = done == 0 ? "?" : format(Duration.ofNanos(elapsed / done * (total - done)));
    Log.info(scenario + ": cell " + (done + 1) + " of " + total + " (" + cell + "), elapsed "
        + format(Duration.ofNanos(elapsed)) + ", ETA " + eta);
  }

  /** Marks the current cell finished. */
  void end() {
    done++;
  }

  /** Also reports within a long cell. */
  static void within(String what, long doneCount, long totalCount, long startNanos) {
    long elapsed = System.nanoTime() - startNanos;
    String eta = doneCount == 0 ? "?" : format(Duration.ofNanos((long) (elapsed / (double) doneCount
        * (totalCount - doneCount))));
    Log.info("  " + what + ": " + doneCount + " of " + totalCount + ", elapsed "
        + format(Duration.ofNanos(elapsed)) + ", ETA " + eta);
  }

  static String format(Duration d) {
    long s = d.toSeconds();
    return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
        : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60)
        : String.format("%.1fs", d.toMillis() / 1000.0);
  }
}
