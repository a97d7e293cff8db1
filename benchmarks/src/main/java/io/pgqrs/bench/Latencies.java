package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/**
 * Records durations in nanoseconds and reports percentiles in milliseconds (nearest rank).
 * Thread-safe; recording is one synchronized append, cheap next to a database round trip.
 */
final class Latencies {

  private long[] values = new long[1024];
  private int size;

  synchronized void record(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = nanos;
  }

  synchronized int count() {
    return size;
  }

  /** A sorted copy of what was recorded. */
  synchronized long[] sorted() {
    long[] copy = Arrays.copyOf(values, size);
    Arrays.sort(copy);
    return copy;
  }

  /** The percentile {@code p} (0 to 100) of sorted values, in milliseconds; NaN when empty. */
  static double percentileMillis(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    int index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
    return sorted[index] / 1_000_000.0;
  }

  /**
   * Writes {@code PREFIXp50_ms}, {@code p95}, {@code p99} (and {@code max} if asked) to a JSON
   * object; nulls when nothing was recorded.
   */
  void writeTo(ObjectNode node, String prefix, boolean withMax) {
    long[] s = sorted();
    put(node, prefix + "p50_ms", percentileMillis(s, 50));
    put(node, prefix + "p95_ms", percentileMillis(s, 95));
    put(node, prefix + "p99_ms", percentileMillis(s, 99));
    if (withMax) {
      put(node, prefix + "max_ms", percentileMillis(s, 100));
    }
  }

  static void put(ObjectNode node, String field, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      node.putNull(field);
    } else {
      node.put(field, round(value));
    }
  }

  static double round(double value) {
    return Math.round(value * 1000.0) / 1000.0;
  }
}
