package io.pgqrs.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Scheduler;

/**
 * Runs one execution's tasks one at a time, in submission order, without a thread of its own: a
 * task submitted while none runs is run at once on the submitting thread, and tasks submitted
 * meanwhile (by that task or by other threads) are run after it by the same thread. A run's step
 * results come back on the store's threads and continue the body there, instead of waking a
 * scheduler thread for each one (a thread hop costs more than a short step on a small machine).
 *
 * <p>{@link #executeLater} never runs the task on the submitting thread: when nothing runs, it
 * hands the queue to a worker of the backing scheduler. A result that becomes due inside the
 * subscription that asked for it (a replayed step) must not run before that subscription returns.
 */
final class SerialExecutor implements Executor {

  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private final Scheduler.Worker backing;
  private volatile @Nullable Thread draining;
  private volatile boolean closed;

  /** @param backing the scheduler whose worker drains the queue when no submitter may */
  SerialExecutor(Scheduler backing) {
    this.backing = backing.createWorker();
  }

  /** Runs {@code task} now on this thread if nothing runs, else after what was submitted before it. */
  @Override
  public void execute(Runnable task) {
    if (closed) {
      return;
    }
    tasks.offer(task);
    if (wip.getAndIncrement() == 0) {
      drain();
    }
  }

  /** Runs {@code task} after what was submitted before it, never on this thread unless it is draining. */
  void executeLater(Runnable task) {
    if (closed) {
      return;
    }
    tasks.offer(task);
    if (wip.getAndIncrement() == 0) {
      backing.schedule(this::drain);
    }
  }

  /** Whether the current thread is running this executor's tasks. */
  boolean inDrain() {
    return draining == Thread.currentThread();
  }

  private void drain() {
    draining = Thread.currentThread();
    int missed = 1;
    try {
      do {
        Runnable task;
        while ((task = tasks.poll()) != null) {
          if (closed) {
            tasks.clear();
            break;
          }
          try {
            task.run();
          } catch (Throwable e) {
            log.error("pgqrs: a task of a run's execution failed", e);
          }
        }
        missed = wip.addAndGet(-missed);
      } while (missed != 0);
    } finally {
      draining = null;
    }
  }

  /** Runs nothing more; tasks not yet run are dropped. */
  void close() {
    closed = true;
    backing.dispose();
  }
}
