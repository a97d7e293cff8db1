package io.pgqrs.workflow;

import io.pgqrs.SerializationFailedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A handle on one workflow run, from {@link Workflow#trigger} or {@link Workflow#run(long)}.
 * Cheap; holds only the id. Every method is cold.
 *
 * @param <O> the output type
 */
public interface RunHandle<O> {

  /**
   * The run's id.
   *
   * @return the id
   */
  long runId();

  /**
   * Reads the run's status.
   *
   * @return the status; fails with {@link RunNotFoundException} if the run is gone
   */
  Mono<RunStatus> status();

  /**
   * Reads the run.
   *
   * @return the run; fails with {@link RunNotFoundException} if the run is gone
   */
  Mono<RunInfo> info();

  /**
   * Reads the run's steps, in the order they were first begun.
   *
   * @return the steps
   */
  Flux<StepInfo> steps();

  /**
   * The run's output, when the run finishes. Woken by the store's notification when a run
   * finishes (PostgreSQL {@code NOTIFY}, in-process on SQLite and Turso), with a poll at the
   * store's poll interval as fallback. Cancelling only stops waiting.
   *
   * @return the output (empty for a null output); fails with {@link WorkflowFailedException} for a
   *     run that ended in ERROR or CANCELLED, {@link SerializationFailedException} if the stored
   *     output does not read as the output type, {@link RunNotFoundException} if the run is gone
   */
  Mono<O> result();

  /**
   * The newest value of an event of the run (set with {@link RunContext#setEvent}), waiting until
   * one is set: at once if the run has set the key already, else when it does. Cold; woken like
   * {@link #events(String, Class)}. Cancelling only stops waiting.
   *
   * @param key the event's key
   * @param type the value's class
   * @param <T> the value type
   * @return the value; completes empty if the run finishes without setting the key; fails with
   *     {@link RunNotFoundException} if the run is gone, {@link io.pgqrs.InvalidArgumentException}
   *     for a malformed key, {@link SerializationFailedException} if the value does not read as
   *     {@code type}
   */
  <T> Mono<T> event(String key, Class<T> type);

  /**
   * Every value of an event of the run, oldest first, then each new value as the run sets it,
   * completing after the last once the run has finished (at once, after the values, for a
   * finished run). Cold; backpressure is buffered. New values are pushed: in process when the run
   * executes in this engine, by {@code NOTIFY} on PostgreSQL, with a poll at the store's poll
   * interval as the fallback (SQLite and Turso across engines, wake-ups off). One reader per engine
   * reads every subscribed run in one query. Fit for a server-sent-event stream
   * ({@code handle.events("progress", Progress.class).map(p -> ServerSentEvent.builder(p).build())}).
   * Cancelling only stops reading.
   *
   * @param key the event's key
   * @param type the values' class
   * @param <T> the value type
   * @return the values; fails as {@link #event(String, Class)} does
   */
  <T> Flux<T> events(String key, Class<T> type);

  /**
   * Sends a signal to the run, received by {@link RunContext#awaitSignal} with the same name,
   * whether it is waiting already or waits later.
   *
   * @param name the signal's name
   * @param value the value, serialized with the store's object mapper
   * @return completes when stored; fails with {@link RunStateException} for a finished run,
   *     {@link RunNotFoundException}, or {@link SerializationFailedException}
   */
  Mono<Void> signal(String name, Object value);

  /**
   * Pauses the run: it goes no further than its next step boundary until resumed. Idempotent.
   *
   * @return the run after the change; fails with {@link RunStateException} if it is finished or
   *     being cancelled
   */
  Mono<RunInfo> pause();

  /**
   * Resumes a paused run at once.
   *
   * @return the run after the change; fails with {@link RunStateException} if it is not paused
   */
  Mono<RunInfo> resume();

  /**
   * Cancels the run with a reason: at once if no worker holds it, else at its next step boundary
   * (the step in flight on this engine is cancelled). Idempotent for a cancelled run.
   *
   * @param reason recorded as the run's error
   * @return the run after the change (CANCELLED or CANCELLING); fails with
   *     {@link RunStateException} if it already finished with SUCCESS or ERROR
   */
  Mono<RunInfo> cancel(String reason);
}
