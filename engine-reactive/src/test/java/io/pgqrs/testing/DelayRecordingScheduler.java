package io.pgqrs.testing;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * A scheduler that runs on another one and keeps the delayed tasks scheduled directly on it
 * ({@code Mono.delay}'s timers) that are armed: scheduled, neither run nor disposed yet.
 */
public final class DelayRecordingScheduler implements Scheduler {

  private record Armed(Duration delay, AtomicBoolean over, Disposable task) {}

  private final Scheduler delegate;
  private final Map<Object, Armed> armed = new ConcurrentHashMap<>();

  /**
   * Runs on {@code delegate}.
   *
   * @param delegate the scheduler that runs the tasks
   */
  public DelayRecordingScheduler(Scheduler delegate) {
    this.delegate = delegate;
  }

  /**
   * How many delayed tasks of exactly this delay are armed now.
   *
   * @param delay the delay
   * @return the count
   */
  public long armed(Duration delay) {
    return armed(delay, delay);
  }

  /**
   * How many delayed tasks with a delay between two bounds (inclusive) are armed now.
   *
   * @param atLeast the lower bound
   * @param atMost the upper bound
   * @return the count
   */
  public long armed(Duration atLeast, Duration atMost) {
    return armed.values().stream()
        .filter(a -> a.delay().compareTo(atLeast) >= 0 && a.delay().compareTo(atMost) <= 0)
        .filter(a -> !a.over().get() && !a.task().isDisposed())
        .count();
  }

  @Override
  public Disposable schedule(Runnable task) {
    return delegate.schedule(task);
  }

  @Override
  public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
    Object key = new Object();
    AtomicBoolean over = new AtomicBoolean();
    Disposable scheduled = delegate.schedule(() -> {
      over.set(true);
      armed.remove(key);
      task.run();
    }, delay, unit);
    armed.put(key, new Armed(Duration.ofNanos(unit.toNanos(delay)), over, scheduled));
    return scheduled;
  }

  @Override
  public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
    return delegate.schedulePeriodically(task, initialDelay, period, unit);
  }

  @Override
  public Worker createWorker() {
    return delegate.createWorker();
  }

  @Override
  public long now(TimeUnit unit) {
    return delegate.now(unit);
  }

  @Override
  public void dispose() {
    // The delegate is shared: not this scheduler's to dispose.
  }
}
