package io.pgqrs.internal;

import io.pgqrs.queue.Lease;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.workflow.RunExecution;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepAcquisition;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One execution of a run on one delivery of its trigger message. The delivery's lease is the run's
 * lease: the consumer session keeps it alive while the body runs, and every step record is fenced
 * by it. The run's recorded steps came with it when it was begun, so replayed steps cost no round
 * trip.
 */
final class DefaultRunExecution implements RunExecution {

  private final WorkflowRuntime runtime;
  private final DefaultDelivery delivery;
  private final RunInfo run;
  private final @Nullable Duration untilDeadline;
  private final Map<String, StoreResults.StepRecord> byPosition = new ConcurrentHashMap<>();
  private final Map<String, StoreResults.StepRecord> byStepId = new ConcurrentHashMap<>();
  private final List<StoreResults.StepRecord> history;
  /** Positions of the steps the low-level API acquired, given in acquisition order like the runtime's. */
  private final Map<String, String> lowLevelPositions = new ConcurrentHashMap<>();
  /** The tail: finished steps whose results the body took but whose records are not written yet. */
  private final List<Held> held = new ArrayList<>();
  /**
   * Every flush of the tail so far, as one cached result (see {@link #flushHeld()}); empty until
   * the first flush. Guarded by {@link #held}, as is the count of flushes in flight.
   */
  private Mono<StoreResults.StepWritten> flushes = Mono.empty();
  private int flushesInFlight;
  /** Whether a finish has begun: it writes what is held, so no flush starts any more. */
  private boolean finishing;

  /** A held record, and what to do once it is written. */
  private record Held(StoreParams.RecordStep record, Runnable onWritten) {}

  DefaultRunExecution(WorkflowRuntime runtime, DefaultDelivery delivery, StoreResults.RunBegun begun) {
    this.runtime = runtime;
    this.delivery = delivery;
    this.run = begun.run();
    this.untilDeadline = begun.untilDeadline();
    this.history = begun.history();
    for (StoreResults.StepRecord r : begun.history()) {
      byPosition.put(r.position(), r);
      byStepId.put(r.stepId(), r);
    }
  }

  @Override
  public RunInfo run() {
    return run;
  }

  /**
   * How long the run had until its deadline when this execution began, by the store's clock: zero
   * once passed, null without a deadline.
   */
  @Nullable Duration untilDeadline() {
    return untilDeadline;
  }

  DefaultDelivery delivery() {
    return delivery;
  }

  /** The run's recorded steps when this execution began. */
  List<StoreResults.StepRecord> history() {
    return history;
  }

  /** The record at a position, as of this execution's begin or its own later records. */
  StoreResults.@Nullable StepRecord recordAt(String position) {
    return byPosition.get(position);
  }

  StoreParams.LeaseRef lease() {
    Lease lease = delivery.lease();
    return new StoreParams.LeaseRef(lease.messageId(), lease.token(), null);
  }

  /** Writes a step record fenced by this execution's lease, through the engine's batching recorder. */
  Mono<StoreResults.StepWritten> write(StoreParams.RecordStep step) {
    return runtime.recorder().write(step).doOnNext(written -> {
      if (written.written()) {
        remember(recordOf(step));
      }
    });
  }

  /** Notes a record this execution wrote by other means (a signal taken, a transactional step). */
  void remember(StoreResults.StepRecord record) {
    byPosition.put(record.position(), record);
    byStepId.put(record.stepId(), record);
  }

  private static StoreResults.StepRecord recordOf(StoreParams.RecordStep step) {
    return new StoreResults.StepRecord(step.position(), step.stepId(), step.status(), step.outputJson(),
        step.outputType(), step.error(), step.attempts(), step.wakeAfter(), step.awaiting(), step.completion());
  }

  // ---------------------------------------------------------------- the tail

  /**
   * Holds a finished step's record instead of writing it at once: the step's result goes to the
   * body first, and the record is written with the run's finish if the body ends before anything
   * else happens ({@link #finish}), else by the next {@link #flushHeld()}. Holding is sound because
   * the code between steps is deterministic and has no effects of its own: until the record is
   * written, a crash costs what a crash inside that step would, one more run of its body. The record
   * is remembered at once, so a resubscribed step replays it.
   */
  void hold(StoreParams.RecordStep step, Runnable onWritten) {
    synchronized (held) {
      held.add(new Held(step, onWritten));
    }
    remember(recordOf(step));
  }

  /** Whether records are held or a flush of them is still in flight. */
  boolean holdsRecords() {
    synchronized (held) {
      return !held.isEmpty() || flushesInFlight > 0;
    }
  }

  /**
   * Writes the held records, if any, and waits for every earlier flush: a record refused by the
   * store or a run status to stop for wins over a plain success. Hot (the writes start at once, or
   * as soon as the earlier flushes end) and cached; empty when nothing was ever held. Errors with
   * the store's error if a write failed, and every later flush and the finish error with it: those
   * records are lost, and the execution must not go on as if they were written. Cancelling a
   * subscriber does not stop the writes.
   */
  Mono<StoreResults.StepWritten> flushHeld() {
    synchronized (held) {
      if (held.isEmpty() || finishing) {
        // A finish under way takes what is held into its own statement.
        return flushes;
      }
      List<Held> batch = List.copyOf(held);
      held.clear();
      Mono<StoreResults.StepWritten> writes = Flux.fromIterable(batch)
          .flatMap(h -> runtime.recorder().write(h.record()).doOnNext(written -> {
            if (written.written()) {
              h.onWritten().run();
            }
          }), batch.size())
          .reduce(DefaultRunExecution::worse);
      Mono<StoreResults.StepWritten> all = Flux.concat(flushes, writes).reduce(DefaultRunExecution::worse).cache();
      flushes = all;
      flushesInFlight++;
      all.subscribe(w -> { }, e -> flushEnded(), this::flushEnded);
      return all;
    }
  }

  /**
   * Every flush so far, and no flush after it: what a finish that takes the held records waits for.
   * From now on the held records stay held for the finish.
   */
  private Mono<StoreResults.StepWritten> finishing() {
    synchronized (held) {
      finishing = true;
      return flushes;
    }
  }

  private void flushEnded() {
    synchronized (held) {
      flushesInFlight--;
    }
  }

  /** Of two record results, the one the execution must act on: a refusal, else a status to stop for. */
  private static StoreResults.StepWritten worse(StoreResults.StepWritten a, StoreResults.StepWritten b) {
    if (!a.written()) {
      return a;
    }
    if (!b.written()) {
      return b;
    }
    return a.runStatus() != RunStatus.RUNNING && a.runStatus() != RunStatus.QUEUED ? a : b;
  }

  /** Takes the held records for a finish, which writes them in its own statement. */
  private List<Held> takeHeld() {
    synchronized (held) {
      List<Held> tail = List.copyOf(held);
      held.clear();
      return tail;
    }
  }

  // ---------------------------------------------------------------- the low-level API

  /** The root position after every one recorded or handed out, as the runtime numbers root steps. */
  private synchronized String nextRootPosition() {
    int max = 0;
    for (String p : byPosition.keySet()) {
      max = Math.max(max, rootNumber(p));
    }
    for (String p : lowLevelPositions.values()) {
      max = Math.max(max, rootNumber(p));
    }
    return Integer.toString(max + 1);
  }

  private static int rootNumber(String position) {
    try {
      return Integer.parseInt(position);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Answered from the history read when the run was begun, with no round trip: the step's
   * identity is both its position and its readable id. The lease argument is checked and otherwise
   * unused, since the run's message lease covers every step.
   */
  @Override
  public Mono<StepAcquisition> acquireStep(String stepId, Duration lease) {
    Objects.requireNonNull(stepId, "stepId");
    Engine.checkPositive("lease", lease);
    return Mono.fromSupplier(() -> {
      if (run.status() != RunStatus.QUEUED && run.status() != RunStatus.RUNNING) {
        return new StepAcquisition.Stopped(run.status(), false);
      }
      if (untilDeadline != null && (untilDeadline.isZero() || untilDeadline.isNegative())) {
        return new StepAcquisition.Stopped(run.status(), true);
      }
      StoreResults.StepRecord r = byStepId.get(stepId);
      lowLevelPositions.computeIfAbsent(stepId, id -> r != null ? r.position() : nextRootPosition());
      UUID token = delivery.lease().token();
      if (r == null) {
        return new StepAcquisition.Execute(stepId, token, 1, null);
      }
      return switch (r.status()) {
        case SUCCESS -> new StepAcquisition.Recorded(stepId, r.outputJson() == null ? null : Json.parse(r.outputJson()),
            r.outputType());
        case ERROR -> new StepAcquisition.Failed(stepId, r.error() == null ? "" : r.error(), r.attempts());
        case RETRY -> r.untilWake() != null && !r.untilWake().isZero() && !r.untilWake().isNegative()
            ? new StepAcquisition.NotDue(stepId, r.untilWake())
            : new StepAcquisition.Execute(stepId, token, r.attempts() + 1, null);
        case WAITING -> new StepAcquisition.Execute(stepId, token, r.attempts() + 1,
            r.untilWake() == null ? Duration.ZERO : r.untilWake());
        case RUNNING -> new StepAcquisition.Execute(stepId, token, r.attempts() + 1, null);
      };
    });
  }

  /**
   * {@inheritDoc}
   *
   * <p>Extends the run's message lease, which covers every step.
   */
  @Override
  public Mono<RunStatus> extendStep(StepAcquisition.Execute step, Duration lease) {
    Engine.checkNotNegative("lease", lease);
    if (lease.isZero()) {
      return Mono.just(run.status());
    }
    return runtime.engine().messages().extend(delivery.lease(), lease)
        .doOnNext(delivery::extended)
        .flatMap(extended -> runtime.driver().findRun(run.id()))
        .map(RunInfo::status);
  }

  @Override
  public Mono<Boolean> recordStepSuccess(StepAcquisition.Execute step, @Nullable Object output) {
    return Mono.defer(() -> lowLevel(step, StepStatus.SUCCESS,
        output == null ? null : runtime.toJson(output, "the output of step '" + step.stepId() + "'"),
        output == null ? null : output.getClass().getName(), null, null));
  }

  @Override
  public Mono<Boolean> recordStepFailure(StepAcquisition.Execute step, String error, @Nullable Duration retryAfter) {
    Objects.requireNonNull(error, "error");
    return Mono.defer(() -> {
      if (retryAfter != null) {
        Engine.checkNotNegative("retryAfter", retryAfter);
      }
      StoredText.check("error", error);
      return lowLevel(step, retryAfter == null ? StepStatus.ERROR : StepStatus.RETRY, null, null, error, retryAfter);
    });
  }

  private Mono<Boolean> lowLevel(StepAcquisition.Execute step, StepStatus status, @Nullable String json,
      @Nullable String type, @Nullable String error, @Nullable Duration wakeAfter) {
    int completion = status == StepStatus.SUCCESS || status == StepStatus.ERROR ? byStepId.size() + 1 : 0;
    String position = lowLevelPositions.computeIfAbsent(step.stepId(), id -> nextRootPosition());
    return write(new StoreParams.RecordStep(run.id(), lease(), position, step.stepId(), status, json, type, error,
            step.attempt(), wakeAfter, null, completion, Duration.ZERO))
        .map(StoreResults.StepWritten::written);
  }

  @Override
  public Mono<Boolean> complete(@Nullable Object output) {
    return Mono.defer(() -> finish(RunStatus.SUCCESS, runtime.toJson(output, "the output of run " + run.id()), null));
  }

  @Override
  public Mono<Boolean> fail(String error) {
    Objects.requireNonNull(error, "error");
    return Mono.defer(() -> {
      StoredText.check("error", error);
      return finish(RunStatus.ERROR, null, error);
    });
  }

  @Override
  public Mono<Boolean> acknowledgeCancel() {
    return finish(RunStatus.CANCELLED, null, null);
  }

  /**
   * Finishes the run with the held tail of steps in the same statement, once every earlier flush of
   * held records has ended: a run whose body ends right after its last step commits that step and
   * its finish together.
   */
  private Mono<Boolean> finish(RunStatus status, @Nullable String json, @Nullable String error) {
    return Mono.defer(this::finishing).then(Mono.defer(() -> {
      AtomicReference<@Nullable RunStatus> ended = new AtomicReference<>();
      List<Held> tail = takeHeld();
      List<StoreParams.RecordStep> steps = tail.stream().map(Held::record).toList();
      return delivery.settleWith(lease -> runtime.finisher().write(
              new StoreParams.FinishRun(run.id(), ref(lease), status, RunTransitions.finish(status), json, error, null,
                  steps))
          .map(finished -> {
            ended.set(finished.status());
            if (finished.status() != null) {
              tail.forEach(h -> h.onWritten().run());
            }
            return finished.status() != null;
          }))
          // Announced once the delivery is settled and its slot is free, so that a caller woken by
          // the result and triggering again at once finds the room for the local fast path.
          .doOnNext(done -> {
            RunStatus e = ended.get();
            if (e != null) {
              Duration sinceCreated = Duration.between(run.createdAt(), runtime.engine().config().clock().instant());
              runtime.engine().telemetry().runFinished(run.workflow(), e,
                  sinceCreated.isNegative() ? Duration.ZERO : sinceCreated);
              runtime.announce(e == status
                  ? new WorkflowRuntime.Finished(run.id(), e, json, error)
                  // Ended otherwise (a cancel arrived): waiters read the run for its reason.
                  : new WorkflowRuntime.Finished(run.id(), null, null, null));
            }
          });
    }));
  }

  @Override
  public Mono<Boolean> park(@Nullable Duration after) {
    return park(after, false);
  }

  Mono<Boolean> park(@Nullable Duration after, boolean failed) {
    return Mono.defer(() -> {
      if (after != null) {
        Engine.checkNotNegative("after", after);
      }
      // Held records go first: a record lost to a store error costs one more run of its step's
      // body, as a crash there would, so the run is parked all the same.
      return flushHeld().onErrorResume(e -> Mono.empty()).then(delivery.settleWith(lease -> runtime.driver().suspendRun(
          new StoreParams.SuspendRun(run.id(), ref(lease), after, failed, RunTransitions.WAKE_AT_ONCE,
              RunTransitions.PARKED_UNTIL_RESUMED))));
    });
  }

  @Override
  public Mono<Boolean> pause() {
    return runtime.pause(run.id()).then(park(null));
  }

  private static StoreParams.LeaseRef ref(Lease lease) {
    return new StoreParams.LeaseRef(lease.messageId(), lease.token(), null);
  }

  @Override
  public String toString() {
    return "RunExecution[run=" + run.id() + ", workflow=" + run.workflow() + "]";
  }
}
