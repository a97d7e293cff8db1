package io.pgqrs.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * The order in which one execution of a run's body delivers step results: the order they were
 * first recorded. A step's delivery runs its continuation, which may call further steps, so
 * delivering results in recorded order makes the positions of steps called in continuations the
 * same on every replay, whatever the timing of the steps' own work.
 *
 * <p>Each delivered result has a completion number: replayed steps bring theirs from the history,
 * new results draw the next one when their value arrives (before they are recorded). A delivery
 * waits until every lower number still outstanding has been delivered or given up. A recorded
 * number that is never reached (the code no longer calls that step, or calls it only after time
 * passes outside steps) would stall the body; after a grace period the order gives it up and logs
 * it, and the position check still catches a step that differs.
 *
 * <p>Deliveries run one at a time, in order, as tasks of the execution's serial executor, which
 * also subscribed the body. A delivery never runs inside the subscription that made it due (a
 * replayed step is due at once): it waits until the task in progress has subscribed everything it
 * subscribes, exactly as a first execution's results, which come back from the store later, do.
 * So a replayed result goes to the executor's queue to run later, while a new result, which comes
 * back on a store thread outside any subscription, may run at once on that thread.
 */
final class CompletionOrder {

  private static final Logger log = LoggerFactory.getLogger(CompletionOrder.class);
  static final Duration STALL_GRACE = Duration.ofSeconds(2);

  private final long runId;
  private final Scheduler timers;
  private final SerialExecutor serial;
  /** The first number drawn for a new result: lower ones are recorded results, replayed. */
  private final int firstNew;
  private final TreeSet<Integer> outstanding = new TreeSet<>();
  private final Map<Integer, Runnable> ready = new HashMap<>();
  private final AtomicInteger wip = new AtomicInteger();
  private int next;
  private @Nullable Disposable stallTimer;
  private int stalledAt = -1;

  CompletionOrder(long runId, Iterable<Integer> recorded, Scheduler timers, SerialExecutor serial) {
    this.runId = runId;
    this.timers = timers;
    this.serial = serial;
    int max = 0;
    for (int n : recorded) {
      if (n > 0) {
        outstanding.add(n);
        max = Math.max(max, n);
      }
    }
    this.next = max + 1;
    this.firstNew = next;
  }

  /** Draws the number of a new result, due after every number drawn or recorded before it. */
  synchronized int draw() {
    int n = next++;
    outstanding.add(n);
    return n;
  }

  /** Delivers {@code delivery} once every lower outstanding number has been delivered. */
  void deliver(int n, Runnable delivery) {
    boolean now;
    synchronized (this) {
      now = !outstanding.contains(n);
      if (!now) {
        ready.put(n, delivery);
      }
    }
    if (now) {
      run(n, delivery);
    }
    drain();
  }

  /** Gives a number up: its result will not be delivered (cancelled, or its record not written). */
  void giveUp(int n) {
    synchronized (this) {
      outstanding.remove(n);
      ready.remove(n);
    }
    drain();
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      while (true) {
        Runnable due;
        int head;
        synchronized (this) {
          if (outstanding.isEmpty()) {
            break;
          }
          head = outstanding.first();
          due = ready.remove(head);
          if (due == null) {
            armStallTimer(head);
            break;
          }
        }
        synchronized (this) {
          outstanding.remove(head);
        }
        // FIFO on the serial executor: this delivery and its continuation end before the next one starts.
        run(head, due);
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  /**
   * Hands a due delivery to the serial executor: a replayed one to run later (it became due inside
   * a subscription, or behind one), a new one at once on this thread when nothing else runs.
   */
  private void run(int n, Runnable delivery) {
    if (n < firstNew) {
      serial.executeLater(delivery);
    } else {
      serial.execute(delivery);
    }
  }

  /** Called under the lock: the head is not ready; if results wait behind it, time it out. */
  private void armStallTimer(int head) {
    if (ready.isEmpty() || (stalledAt == head && stallTimer != null && !stallTimer.isDisposed())) {
      return;
    }
    Disposable previous = stallTimer;
    if (previous != null) {
      previous.dispose();
    }
    stalledAt = head;
    stallTimer = reactor.core.publisher.Mono.delay(STALL_GRACE, timers).subscribe(t -> {
      boolean stuck;
      synchronized (this) {
        stuck = !outstanding.isEmpty() && outstanding.first() == head && !ready.isEmpty();
      }
      if (stuck) {
        log.warn("pgqrs run {}: the step recorded as completion {} was not reached within {} while later results "
            + "waited; delivering them without it (does the body call steps after time passes outside steps?)",
            runId, head, STALL_GRACE);
        giveUp(head);
      }
    });
  }

  /** Stops the stall timer; the execution ended. */
  synchronized void close() {
    Disposable timer = stallTimer;
    if (timer != null) {
      timer.dispose();
    }
    ready.clear();
  }
}
