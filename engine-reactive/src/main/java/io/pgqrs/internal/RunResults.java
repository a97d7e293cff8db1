package io.pgqrs.internal;

import io.pgqrs.spi.StoreDriver;
import io.pgqrs.workflow.RunInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The engine's one waiter for run results: every {@code result()} of the engine waits here. A run
 * finished in this engine is known at once from its announcement; a run finished elsewhere is
 * looked up when a run-finished notification names it, and every waiting run is looked up
 * together, in one query per poll interval, as the fallback. Look-ups asked for while one is in
 * flight share the next one. With wake-ups off (a transaction-mode pooler, say) nothing listens
 * for run-finished notifications: the poll alone finds runs finished elsewhere.
 */
final class RunResults {

  private static final Logger log = LoggerFactory.getLogger(RunResults.class);
  private static final int RECENT = 4096;
  private static final int MAX_LOOKUP = 1000;

  private final StoreDriver driver;
  private final Duration poll;
  /** Whether a run is executing in this engine, which will announce its end itself. */
  private final LongPredicate executingHere;
  private final reactor.core.scheduler.Scheduler timers;
  /** Whether to subscribe to the driver's run-finished notifications (a LISTEN on PostgreSQL). */
  private final boolean listen;
  private final Map<Long, Waiting> waiting = new ConcurrentHashMap<>();
  /**
   * Outcomes this engine saw lately, each with the timer clock's time it saw it. One is trusted
   * for {@code poll} only: another engine's restart of the run is not announced here, so an
   * outcome kept longer could outlive the run it described.
   */
  private final Map<Long, Known> recent = new LinkedHashMap<>(16, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Known> eldest) {
      return size() > RECENT;
    }
  };
  private final CoalescedLookups lookups = new CoalescedLookups(waiting::keySet, this::lookUp);
  private final AtomicBoolean started = new AtomicBoolean();
  private final Disposable.Composite background = Disposables.composite();

  /** An outcome seen at {@code atNanos} of the timer clock. */
  private record Known(WorkflowRuntime.Finished finished, long atNanos) {}

  /** The waiters of one run, sharing one outcome. */
  private static final class Waiting {
    final Sinks.One<WorkflowRuntime.Finished> outcome = Sinks.one();
    final AtomicInteger subscribers = new AtomicInteger();
  }

  RunResults(StoreDriver driver, Duration poll, reactor.core.scheduler.Scheduler timers) {
    this(driver, poll, timers, runId -> false);
  }

  /**
   * @param executingHere whether a run is executing in this engine: its run-finished notification
   *     is not looked up, since the execution announces the end itself (and {@link #executionEnded}
   *     looks it up if it ended otherwise)
   */
  RunResults(StoreDriver driver, Duration poll, reactor.core.scheduler.Scheduler timers,
      LongPredicate executingHere) {
    this(driver, poll, timers, executingHere, true);
  }

  /**
   * @param executingHere as above
   * @param listen whether to subscribe to the driver's run-finished notifications; false polls
   *     only, so that nothing LISTENs when the engine's wake-ups are off
   */
  RunResults(StoreDriver driver, Duration poll, reactor.core.scheduler.Scheduler timers,
      LongPredicate executingHere, boolean listen) {
    this.listen = listen;
    this.driver = driver;
    this.poll = poll;
    this.timers = timers;
    this.executingHere = executingHere;
  }

  /**
   * An execution of the run in this engine ended without finishing it: the run was finished or
   * taken elsewhere (a lost lease, say). Its waiters, whose notification was skipped while it
   * executed here, are looked up now.
   */
  void executionEnded(long runId) {
    if (waiting.containsKey(runId)) {
      lookups.look(runId);
    }
  }

  /** A run was restarted: the outcome this engine knew is no longer its outcome. */
  void restarted(long runId) {
    synchronized (recent) {
      recent.remove(runId);
    }
  }

  /** A run finished (in this engine, or seen finished by a look-up): its waiters get it now. */
  void finished(WorkflowRuntime.Finished finished) {
    if (finished.status() == null) {
      // Finished, outcome unknown here (a cancel's reason, say): read it.
      lookups.look(finished.runId());
      return;
    }
    long now = timers.now(TimeUnit.NANOSECONDS);
    synchronized (recent) {
      recent.put(finished.runId(), new Known(finished, now));
    }
    Waiting w = waiting.remove(finished.runId());
    if (w != null) {
      Emitters.emitValue(w.outcome, finished);
    }
  }

  /**
   * The run's outcome once it has finished. Cold: registers when subscribed; cancelling withdraws
   * this waiter only.
   *
   * @param runId the run
   * @param lookNow whether to read the run at once (it may have finished before this call, and not
   *     in this engine); a run this engine has just triggered, or is executing, is not read
   */
  Mono<WorkflowRuntime.Finished> await(long runId, boolean lookNow) {
    return Mono.defer(() -> {
      WorkflowRuntime.Finished known = recentlyFinished(runId);
      if (known != null) {
        return Mono.just(known);
      }
      start();
      Waiting w = waiting.computeIfAbsent(runId, id -> new Waiting());
      w.subscribers.incrementAndGet();
      // Announced between the first check and the registration: its waiters were already served.
      WorkflowRuntime.Finished raced = recentlyFinished(runId);
      if (raced != null) {
        release(runId, w);
        return Mono.just(raced);
      }
      // A run executing here announces its finish in-process, after this registration.
      if (lookNow && !executingHere.test(runId)) {
        lookups.look(runId);
      }
      return w.outcome.asMono().doOnCancel(() -> release(runId, w));
    });
  }

  private void release(long runId, Waiting w) {
    if (w.subscribers.decrementAndGet() == 0) {
      waiting.remove(runId, w);
    }
  }

  private WorkflowRuntime.@Nullable Finished recentlyFinished(long runId) {
    long now = timers.now(TimeUnit.NANOSECONDS);
    synchronized (recent) {
      Known known = recent.get(runId);
      if (known == null) {
        return null;
      }
      if (now - known.atNanos() > poll.toNanos()) {
        recent.remove(runId);
        return null;
      }
      return known.finished();
    }
  }

  private void start() {
    if (!started.compareAndSet(false, true)) {
      return;
    }
    if (listen) {
      listenForFinishedRuns();
    }
    background.add(Flux.interval(poll, poll, timers).subscribe(t -> {
      if (!waiting.isEmpty()) {
        lookups.lookAll();
      }
    }));
  }

  private void listenForFinishedRuns() {
    background.add(driver.runsFinished().subscribe(id -> {
      if (id < 0) {
        lookups.lookAll();
      } else if (waiting.containsKey(id) && !executingHere.test(id)) {
        lookups.look(id);
      }
    }, e -> log.warn("pgqrs run-finished notifications ended: {}", e.toString())));
  }

  /** One look-up for the pending runs (see {@link CoalescedLookups}), chunked by the driver's limit. */
  private void lookUp(List<Long> ids, Runnable done) {
    List<List<Long>> chunks = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += MAX_LOOKUP) {
      chunks.add(ids.subList(i, Math.min(ids.size(), i + MAX_LOOKUP)));
    }
    Flux.fromIterable(chunks)
        .concatMap(driver::awaitRuns)
        .filter(run -> run.status().isFinished())
        .subscribe(this::found, e -> {
          log.debug("pgqrs could not look up run results; trying again at the poll interval: {}", e.toString());
          done.run();
        }, done);
  }

  private void found(RunInfo run) {
    finished(WorkflowRuntime.Finished.of(run));
  }

  /** Stops the notifications and the poll; waiters still waiting never complete. */
  void close() {
    background.dispose();
  }
}
