package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;
import java.time.Duration;
import java.util.Objects;

/**
 * How a run starts a child run with {@link RunContext#child(Workflow, Object, ChildOptions)} or
 * {@link RunContext#startChild(Workflow, Object, ChildOptions)}. Immutable: every {@code withX}
 * returns a copy, so one instance can be kept as a template.
 *
 * @param cancelWithParent whether cancelling the parent cancels the child (and, through it, the
 *     child's own children); default true
 * @param checkEvery how often a parent waiting for its child looks at the child's status when no
 *     wake-up arrived (the fallback after a crash of the engine that would have woken it); default
 *     one minute
 */
public record ChildOptions(boolean cancelWithParent, Duration checkEvery) {

  private static final ChildOptions DEFAULTS = new ChildOptions(true, Duration.ofMinutes(1));

  /**
   * Checks the options.
   *
   * @param cancelWithParent whether the parent's cancel cancels the child
   * @param checkEvery the fallback interval, positive
   * @throws InvalidArgumentException if {@code checkEvery} is not positive
   */
  public ChildOptions {
    Objects.requireNonNull(checkEvery, "checkEvery");
    if (checkEvery.isZero() || checkEvery.isNegative()) {
      throw new InvalidArgumentException("checkEvery", "must be positive, got " + checkEvery);
    }
  }

  /**
   * The defaults: the child is cancelled with its parent; the parent looks at it every minute
   * when not woken.
   *
   * @return the defaults
   */
  public static ChildOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A child the parent's cancel leaves running.
   *
   * @return a copy
   */
  public ChildOptions leaveOnParentCancel() {
    return new ChildOptions(false, checkEvery);
  }

  /**
   * Another fallback interval.
   *
   * @param value positive
   * @return a copy
   * @throws InvalidArgumentException if {@code value} is not positive
   */
  public ChildOptions withCheckEvery(Duration value) {
    return new ChildOptions(cancelWithParent, value);
  }
}
