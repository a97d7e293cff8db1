package io.pgqrs.schedule;

import io.pgqrs.InvalidArgumentException;

/**
 * What a schedule does when more than one of its ticks is due at once, which happens only when no
 * store ran the {@code scheduler} service for longer than the schedule's period (every instance was
 * down, or maintenance was off). With a single tick due both policies fire it.
 *
 * <ul>
 *   <li>{@link #skip()} (the default) fires only the newest due tick; the older ones are skipped and
 *       never fire.
 *   <li>{@link #catchUp(int) catchUp(n)} fires the newest {@code n} due ticks, oldest first, each as
 *       its own run or message with its own scheduled time; older ones are skipped.
 * </ul>
 *
 * <p>Either way the schedule then waits for its first tick after the store's clock.
 *
 * @param maxTicks the most ticks fired at once: 1 for {@link #skip()}
 */
public record MissedTicks(int maxTicks) {

  /** The largest bound {@link #catchUp(int)} accepts. */
  public static final int MAX_CATCH_UP = 1_000;

  /**
   * Checks the bound.
   *
   * @param maxTicks 1 to {@link #MAX_CATCH_UP}
   * @throws InvalidArgumentException if out of range
   */
  public MissedTicks {
    if (maxTicks < 1 || maxTicks > MAX_CATCH_UP) {
      throw new InvalidArgumentException("maxTicks", "a missed-tick bound must be 1 to " + MAX_CATCH_UP + ", got "
          + maxTicks);
    }
  }

  /**
   * Fire only the newest due tick.
   *
   * @return the policy
   */
  public static MissedTicks skip() {
    return new MissedTicks(1);
  }

  /**
   * Fire up to {@code maxTicks} of the due ticks, the newest ones, oldest first.
   *
   * @param maxTicks 1 to {@link #MAX_CATCH_UP} ({@code catchUp(1)} is {@link #skip()})
   * @return the policy
   * @throws InvalidArgumentException if out of range
   */
  public static MissedTicks catchUp(int maxTicks) {
    return new MissedTicks(maxTicks);
  }

  /**
   * Whether this is {@link #skip()}.
   *
   * @return true when at most one tick fires at once
   */
  public boolean skips() {
    return maxTicks == 1;
  }
}
