package io.pgqrs.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock at the real time plus an offset that a test moves forward; thread-safe. */
public final class MovableClock extends Clock {

  private volatile Duration offset;

  /**
   * A clock {@code offset} ahead of the real time.
   *
   * @param offset how far ahead it starts
   */
  public MovableClock(Duration offset) {
    this.offset = offset;
  }

  /**
   * Moves the clock forward.
   *
   * @param by how far
   */
  public synchronized void advance(Duration by) {
    offset = offset.plus(by);
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(offset);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a movable clock is in UTC");
  }
}
