package io.pgqrs.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Look-ups of runs by id, coalesced: asked for one run or for every run of the caller, at most one
 * look-up is in flight, and whatever is asked for meanwhile goes together in the next one, the
 * moment it ends. The engine's result waiter ({@link RunResults}) and event reader
 * ({@link RunEvents}) look up many runs in one query this way. Never blocks; thread-safe.
 */
final class CoalescedLookups {

  /** One look-up of the given runs; it must call {@code done} once when it has ended, however it ended. */
  @FunctionalInterface
  interface LookUp {
    void lookUp(List<Long> runIds, Runnable done);
  }

  private final Supplier<Collection<Long>> everyRun;
  private final LookUp lookUp;
  private final Set<Long> toLook = ConcurrentHashMap.newKeySet();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile boolean looking;
  private volatile boolean lookAll;

  /**
   * @param everyRun the runs an "every run" look-up reads (those waited for, say)
   * @param lookUp what looks runs up
   */
  CoalescedLookups(Supplier<Collection<Long>> everyRun, LookUp lookUp) {
    this.everyRun = everyRun;
    this.lookUp = lookUp;
  }

  /** Looks the run up now, or in the next look-up if one is in flight. */
  void look(long runId) {
    toLook.add(runId);
    drain();
  }

  /** Looks up every run {@code everyRun} gives, now or in the next look-up. */
  void lookAll() {
    lookAll = true;
    drain();
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (!looking) {
        List<Long> ids = new ArrayList<>();
        if (lookAll) {
          lookAll = false;
          toLook.clear();
          ids.addAll(everyRun.get());
        } else {
          for (Long id : toLook) {
            toLook.remove(id);
            ids.add(id);
          }
        }
        if (!ids.isEmpty()) {
          looking = true;
          lookUp.lookUp(ids, () -> {
            looking = false;
            drain();
          });
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }
}
