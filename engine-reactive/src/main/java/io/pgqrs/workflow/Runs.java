package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.Delivery;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Durable workflows of a store: registration, inspection and control of runs, and the low-level
 * execution API for code that does not fit a {@link WorkflowFunction}. Every method is cold.
 */
public interface Runs {

  /**
   * Registers a workflow: creates its queue (named after it) if absent and records it, and creates
   * or updates the schedule it declares ({@link WorkflowDefinition#withSchedule}). Idempotent;
   * every engine that triggers or executes the workflow registers it. Cold; errors with
   * {@link io.pgqrs.SerializationFailedException} when a declared schedule's input cannot be
   * serialized (the workflow is registered, the schedule is not).
   *
   * @param definition the definition
   * @param <I> the input type
   * @param <O> the output type
   * @return the registered workflow
   */
  <I, O> Mono<Workflow<I, O>> register(WorkflowDefinition<I, O> definition);

  /**
   * Reads a run.
   *
   * @param runId the run
   * @return the run; fails with {@link RunNotFoundException}
   */
  Mono<RunInfo> get(long runId);

  /**
   * Lists runs, newest first.
   *
   * @param query the filter and page
   * @return the runs
   * @throws InvalidArgumentException if the limit is out of range
   */
  Flux<RunInfo> list(RunQuery query);

  /**
   * Lists a run's steps, in the order they were first begun.
   *
   * @param runId the run
   * @return the steps (none for an unknown run)
   */
  Flux<StepInfo> steps(long runId);

  /**
   * The newest value of a run's event, waiting for one (see {@link RunHandle#event}).
   *
   * @param runId the run
   * @param key the event's key
   * @param type the value's class
   * @param <T> the value type
   * @return the value, or empty if the run finishes without setting it
   */
  <T> Mono<T> event(long runId, String key, Class<T> type);

  /**
   * Every value of a run's event, then new ones until the run finishes (see
   * {@link RunHandle#events}).
   *
   * @param runId the run
   * @param key the event's key
   * @param type the values' class
   * @param <T> the value type
   * @return the values
   */
  <T> Flux<T> events(long runId, String key, Class<T> type);

  /**
   * The values a run has set so far, of every key, in the order they were set: a snapshot that
   * neither waits nor follows (for that, {@link #events(long, String, Class)}). Cold.
   *
   * @param runId the run
   * @return the values; fails with {@link RunNotFoundException} if the run is gone
   */
  Flux<EventInfo> eventHistory(long runId);

  /**
   * The signals sent to a run so far, consumed or still pending, oldest first: a snapshot that
   * neither waits nor follows. Cold: the store is read when subscribed; cancelling stops the reading.
   *
   * @param runId the run
   * @return the signals; fails with {@link RunNotFoundException} if the run does not exist
   */
  Flux<SignalInfo> signals(long runId);

  /**
   * Sends a signal to a run (see {@link RunHandle#signal}).
   *
   * @param runId the run
   * @param name the signal's name
   * @param value the value
   * @return completes when stored
   */
  Mono<Void> signal(long runId, String name, Object value);

  /**
   * Pauses a run (see {@link RunHandle#pause()}).
   *
   * @param runId the run
   * @return the run after the change
   */
  Mono<RunInfo> pause(long runId);

  /**
   * Resumes a paused run (see {@link RunHandle#resume()}).
   *
   * @param runId the run
   * @return the run after the change
   */
  Mono<RunInfo> resume(long runId);

  /**
   * Cancels a run (see {@link RunHandle#cancel(String)}).
   *
   * @param runId the run
   * @param reason the reason
   * @return the run after the change
   */
  Mono<RunInfo> cancel(long runId, String reason);

  /**
   * Low-level: begins executing the run of a delivery from a workflow's queue (a consumer's
   * {@link Consumer#deliveries()}). QUEUED becomes RUNNING. The execution's methods then acquire
   * and record steps and finish, park or fail the run; finishing settles the delivery.
   *
   * @param delivery the delivery, whose payload is a run's trigger message
   * @return the execution; fails with {@link InvalidArgumentException} if the payload is not a
   *     trigger message, {@link RunNotFoundException} if its run is gone
   */
  Mono<RunExecution> begin(Delivery delivery);

  /**
   * Starts a run that failed ({@link RunStatus#ERROR}) or was cancelled again from where it
   * stopped, under the same id: its successful steps replay from their records (their bodies do not
   * run again), the failed or unfinished ones execute again, and a worker of its workflow (and
   * version) takes it like a newly triggered run. The run gets a fresh failure count, no output or
   * error, and its timeout again from now; its signals already consumed stay consumed. Use it once
   * the cause of the failure is repaired (a bug fixed and deployed). Cold: nothing happens until
   * subscribed; cancelling after the request is sent may still restart the run.
   *
   * <p>This store's {@code result()} callers wait for the restarted run's new outcome at once.
   * Another store that saw the earlier outcome may still hand that to its callers for up to its
   * poll interval ({@link io.pgqrs.PgqrsConfig#pollInterval()}) from when it saw it; after that it
   * reads the run again.
   *
   * @param runId the run
   * @return the run, QUEUED; errors with {@link RunNotFoundException}, or {@link RunStateException}
   *     for a run that is not ERROR or CANCELLED (running, queued, paused, successful). Of two
   *     concurrent restarts exactly one succeeds; the other gets the {@code RunStateException}
   */
  Mono<RunInfo> restart(long runId);

  /**
   * Creates a new run of a finished run's workflow, version and input that re-executes from the
   * step {@code fromStep}: the original's successful steps completed before that step are copied
   * into the new run (with their outputs and events) and replay there, every later step executes.
   * The original run is unchanged. This is DBOS's fork: repair a bug, then re-execute from the step
   * that went wrong, also for a run that succeeded with a wrong result. Cold; cancelling after the
   * request is sent may still create the run.
   *
   * @param runId the run forked
   * @param fromStep the readable identity of the first step to execute again, as
   *     {@link StepInfo#stepId()} shows it (a step's name, or {@code name#2} for its second use)
   * @return the new run, QUEUED; errors with {@link RunNotFoundException}, {@link RunStateException}
   *     for a run that is not finished, or {@link io.pgqrs.InvalidArgumentException} naming
   *     {@code fromStep} when the run has no such step
   */
  Mono<RunInfo> fork(long runId, String fromStep);
}
