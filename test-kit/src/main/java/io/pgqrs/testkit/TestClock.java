package io.pgqrs.testkit;

import io.pgqrs.InvalidArgumentException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Schedulers;

/**
 * A clock that a test moves forward: {@link #advance(Duration)} and {@link #set(Instant)} make time
 * pass for the test's store at once, so leases expire, delayed messages and retries become due,
 * workflow sleeps end and deadlines pass without the test waiting.
 *
 * <h2>What it controls</h2>
 *
 * The kit's stores run on this clock ({@link io.pgqrs.PgqrsConfig#storeClock()}): every store
 * operation is given this clock's time instead of the database's, so every lease, visibility,
 * delay, retry backoff, sleep, signal timeout, run deadline, heartbeat and retention the store
 * applies is judged by it, on every backend. It is also the store's
 * {@link io.pgqrs.PgqrsConfig#clock()}, so producer rate limits see the advance too. Between
 * advances it runs with the real time.
 *
 * <table>
 *   <caption>Time control</caption>
 *   <tr><th>what</th><th>follows this clock</th></tr>
 *   <tr><td>leases, delays, retries, sleeps, signal timeouts, deadlines, heartbeats, retention in
 *       the store</td><td>yes, on every backend</td></tr>
 *   <tr><td>producer rate limits (the config clock)</td><td>yes</td></tr>
 *   <tr><td>cron schedules: the ticks an advance passed are fired before it returns (one turn of
 *       the scheduler, by each schedule's missed-tick policy)</td><td>yes</td></tr>
 *   <tr><td>the engine's own timers (polls, heartbeats, lease keep-alives, handler and shutdown
 *       timeouts, the deadline timer of a run in flight)</td><td>no: real time</td></tr>
 * </table>
 *
 * <p>The engine's timers stay on real time on purpose: the kit's stores poll every
 * {@value PgqrsExtension#POLL_INTERVAL_MILLIS} ms, so work the advance made due is found within
 * that, and a multi-day advance does not fire days of heartbeats. A handler or step that is running
 * while the clock advances past its lease loses the lease, as it would in production; a run whose
 * deadline passes while its body is in flight is timed out when the run is next taken, not by its
 * engine timer.
 *
 * <p>Instants the store reports are this clock's: a message enqueued right after
 * {@code advance(Duration.ofDays(1))} reports an {@code enqueuedAt} a day after the real time.
 *
 * <p>{@code advance} and {@code set} block the calling thread for the scheduler turn that follows
 * them: call them from the test, never from a Reactor non-blocking thread (they refuse with
 * {@link IllegalStateException}). They are serialised; the clock is thread-safe.
 */
public final class TestClock extends Clock {

  private final Clock base;
  private volatile Duration offset = Duration.ZERO;
  private volatile @Nullable Runnable afterAdvance;

  /** A clock at the real time. */
  TestClock() {
    this(Clock.systemUTC());
  }

  TestClock(Clock base) {
    this.base = base;
  }

  /** What runs after every advance: the kit fires the due schedules. */
  void afterAdvance(@Nullable Runnable action) {
    this.afterAdvance = action;
  }

  /**
   * Moves time forward: the test's store behaves as if {@code by} had passed, at once.
   *
   * @param by how far; zero does nothing
   * @throws InvalidArgumentException naming {@code by} if it is negative (time never goes back:
   *     a lease that expired stays expired)
   * @throws IllegalStateException on a Reactor non-blocking thread
   */
  public synchronized void advance(Duration by) {
    Objects.requireNonNull(by, "by");
    if (by.isNegative()) {
      throw new InvalidArgumentException("by", "a test clock moves forward only, got " + by);
    }
    if (by.isZero()) {
      return;
    }
    if (Schedulers.isInNonBlockingThread()) {
      throw new IllegalStateException("TestClock.advance blocks for a scheduler turn: call it from the test thread, "
          + "not from a Reactor non-blocking thread (" + Thread.currentThread().getName() + ")");
    }
    offset = offset.plus(by);
    Runnable after = afterAdvance;
    if (after != null) {
      after.run();
    }
  }

  /**
   * Moves time forward to an instant of this clock: {@code advance(Duration.between(instant(), to))}.
   *
   * @param to the new time
   * @throws InvalidArgumentException naming {@code to} if it is before {@link #instant()}
   * @throws IllegalStateException on a Reactor non-blocking thread
   */
  public synchronized void set(Instant to) {
    Objects.requireNonNull(to, "to");
    Duration by = Duration.between(instant(), to);
    if (by.isNegative()) {
      throw new InvalidArgumentException("to", "a test clock moves forward only: " + to + " is before " + instant());
    }
    advance(by);
  }

  /**
   * How far this clock has been moved in total.
   *
   * @return the sum of every advance
   */
  public Duration offset() {
    return offset;
  }

  /**
   * The real time plus {@link #offset()}.
   *
   * @return the current instant of this clock
   */
  @Override
  public Instant instant() {
    return base.instant().plus(offset);
  }

  /**
   * UTC.
   *
   * @return {@link ZoneOffset#UTC}
   */
  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * This clock in UTC only.
   *
   * @param zone the zone
   * @return this clock for UTC
   * @throws UnsupportedOperationException for any other zone: the store's time has no zone
   */
  @Override
  public Clock withZone(ZoneId zone) {
    if (ZoneOffset.UTC.equals(zone)) {
      return this;
    }
    throw new UnsupportedOperationException("a TestClock stays in UTC");
  }

  /**
   * Names the offset.
   *
   * @return {@code TestClock{offset=...}}
   */
  @Override
  public String toString() {
    return "TestClock{offset=" + offset + '}';
  }
}
