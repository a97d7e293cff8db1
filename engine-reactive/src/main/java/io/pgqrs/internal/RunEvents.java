package io.pgqrs.internal;

import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/**
 * The engine's one reader of run events: every {@code events()} and {@code event()} of the engine
 * reads through it. The runs watched are looked up together, in one query for all of them, each
 * after the newest event its readers have: at once when a reader subscribes, when an event is set
 * by a run executing here, when the driver announces events written elsewhere (a NOTIFY on
 * PostgreSQL), and at the poll interval as the fallback. Look-ups asked for while one is in flight
 * share the next one. A reader ends after the look-up that follows its run's finish, which finds
 * every event the run set, since events are written under the run's lease before it finishes.
 */
final class RunEvents {

  private static final Logger log = LoggerFactory.getLogger(RunEvents.class);
  private static final int MAX_RUNS = 1000;
  private static final int MAX_ROWS = 1000;

  private final StoreDriver driver;
  private final Duration poll;
  private final reactor.core.scheduler.Scheduler timers;
  private final boolean listen;
  /** The run's end, as the engine's result waiter tells it. */
  private final LongFunction<Mono<?>> finished;
  private final Map<Long, List<Reader>> watched = new ConcurrentHashMap<>();
  private final CoalescedLookups lookups = new CoalescedLookups(watched::keySet, this::lookUp);
  private final AtomicBoolean started = new AtomicBoolean();
  private final Disposable.Composite background = Disposables.composite();

  /** One subscriber: a run's events of one key, or only the newest of them. */
  private static final class Reader {
    final String key;
    final boolean newestOnly;
    final FluxSink<StoreResults.RunEvent> sink;
    /** The newest seq of the run this reader has seen (of any key); written by look-ups only. */
    volatile long cursor;
    /** Set once the run has finished: the next look-up that begins afterwards ends this reader. */
    volatile boolean runFinished;
    volatile @Nullable Disposable finishWatch;
    /** For a reader of the newest event only: the newest of its key seen so far, not yet emitted. */
    volatile StoreResults.@Nullable RunEvent newest;

    Reader(String key, boolean newestOnly, FluxSink<StoreResults.RunEvent> sink) {
      this.key = key;
      this.newestOnly = newestOnly;
      this.sink = sink;
    }
  }

  /**
   * @param finished the run's end: completes (with anything) when the run has finished
   * @param listen whether to subscribe to the driver's announcements of events written elsewhere
   */
  RunEvents(StoreDriver driver, Duration poll, reactor.core.scheduler.Scheduler timers,
      LongFunction<Mono<?>> finished, boolean listen) {
    this.driver = driver;
    this.poll = poll;
    this.timers = timers;
    this.finished = finished;
    this.listen = listen;
  }

  /**
   * The run's events of {@code key}, oldest first, then new ones as they are set, completing after
   * the last once the run has finished; with {@code newestOnly}, the newest event as soon as there
   * is one, or nothing if the run finishes without one. Cold: registers when subscribed;
   * cancelling withdraws this reader only. The run must exist (checked by the caller).
   *
   * @param runFinishedAlready whether the run is known to have finished (then no wait for its end)
   */
  Flux<StoreResults.RunEvent> watch(long runId, String key, boolean newestOnly, boolean runFinishedAlready) {
    return Flux.create(sink -> {
      start();
      Reader reader = new Reader(key, newestOnly, sink);
      watched.computeIfAbsent(runId, id -> new CopyOnWriteArrayList<>()).add(reader);
      sink.onDispose(() -> {
        Disposable w = reader.finishWatch;
        if (w != null) {
          w.dispose();
        }
        watched.computeIfPresent(runId, (id, list) -> {
          list.remove(reader);
          return list.isEmpty() ? null : list;
        });
      });
      if (runFinishedAlready) {
        reader.runFinished = true;
      } else {
        reader.finishWatch = finished.apply(runId).subscribe(v -> { }, sink::error, () -> {
          reader.runFinished = true;
          request(runId);
        });
      }
      request(runId);
    }, FluxSink.OverflowStrategy.BUFFER);
  }

  /** Events of the run may have been written (by a run executing here): its readers look now. */
  void written(long runId) {
    if (watched.containsKey(runId)) {
      request(runId);
    }
  }

  private void request(long runId) {
    lookups.look(runId);
  }

  private void start() {
    if (!started.compareAndSet(false, true)) {
      return;
    }
    if (listen) {
      background.add(driver.eventsWritten().subscribe(id -> {
        if (id < 0) {
          lookups.lookAll();
        } else {
          written(id);
        }
      }, e -> log.warn("pgqrs run-event notifications ended: {}", e.toString())));
    }
    background.add(Flux.interval(poll, poll, timers).subscribe(t -> {
      if (!watched.isEmpty()) {
        lookups.lookAll();
      }
    }));
  }

  /**
   * One look-up: the readers registered now, each run read after the oldest cursor of its readers;
   * the readers whose run had finished before the query began end after it, unless the rows came
   * back cut at the limit (then their runs are looked at again first).
   */
  private void lookUp(List<Long> all, Runnable done) {
    List<Long> ids = all.size() > MAX_RUNS ? all.subList(0, MAX_RUNS) : all;
    // The rest go in the next look-up, which begins when this one is done.
    all.subList(ids.size(), all.size()).forEach(lookups::look);
    Map<Long, List<Reader>> readers = new HashMap<>();
    Map<Reader, Boolean> endAfter = new HashMap<>();
    List<Long> runIds = new ArrayList<>();
    List<Long> afters = new ArrayList<>();
    for (Long id : ids) {
      List<Reader> list = watched.get(id);
      if (list == null || list.isEmpty()) {
        continue;
      }
      List<Reader> snapshot = List.copyOf(list);
      long after = Long.MAX_VALUE;
      for (Reader r : snapshot) {
        endAfter.put(r, r.runFinished);
        after = Math.min(after, r.cursor);
      }
      readers.put(id, snapshot);
      runIds.add(id);
      afters.add(after);
    }
    if (runIds.isEmpty()) {
      done.run();
      return;
    }
    driver.listEvents(new StoreParams.ListEvents(runIds, afters, MAX_ROWS))
        .collectList()
        .subscribe(rows -> {
          deliver(rows, readers, endAfter);
          done.run();
        }, e -> {
          log.debug("pgqrs could not read run events; trying again at the poll interval: {}", e.toString());
          done.run();
        });
  }

  private void deliver(List<StoreResults.RunEvent> rows, Map<Long, List<Reader>> readers,
      Map<Reader, Boolean> endAfter) {
    for (StoreResults.RunEvent row : rows) {
      for (Reader r : readers.getOrDefault(row.runId(), List.of())) {
        if (row.seq() <= r.cursor) {
          continue;
        }
        r.cursor = row.seq();
        if (!r.key.equals(row.key())) {
          continue;
        }
        if (r.newestOnly) {
          r.newest = row;
        } else {
          r.sink.next(row);
        }
      }
    }
    boolean cut = rows.size() >= MAX_ROWS;
    if (cut) {
      readers.keySet().forEach(lookups::look);
    } else {
      for (List<Reader> list : readers.values()) {
        for (Reader r : list) {
          StoreResults.RunEvent found = r.newest;
          if (r.newestOnly && found != null) {
            r.sink.next(found);
            r.sink.complete();
          } else if (Boolean.TRUE.equals(endAfter.get(r))) {
            r.sink.complete();
          }
        }
      }
    }
  }

  /** Stops the notifications and the poll; readers still reading get nothing more. */
  void close() {
    background.dispose();
  }
}
