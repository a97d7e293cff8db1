package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.SerializationFailedException;
import reactor.core.publisher.Mono;

/**
 * A workflow registered in a store, from {@link Runs#register(WorkflowDefinition)}: triggers runs,
 * finds them, and builds workers. Thread-safe.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public interface Workflow<I, O> {

  /**
   * The definition.
   *
   * @return the definition
   */
  WorkflowDefinition<I, O> definition();

  /**
   * Starts a run: the run and its trigger message are stored in one transaction. Cold.
   *
   * @param input the input
   * @return a handle on the new run; fails with {@link InvalidArgumentException} if the input is
   *     not of the input type, {@link SerializationFailedException} if it cannot be serialized
   */
  Mono<RunHandle<O>> trigger(I input);

  /**
   * Starts a run unless this workflow already has a run with the same key, in which case that run
   * is returned and nothing is stored. Cold.
   *
   * @param input the input
   * @param idempotencyKey the key, 1 to 255 characters
   * @return a handle on the new or existing run
   */
  Mono<RunHandle<O>> trigger(I input, String idempotencyKey);

  /**
   * A handle on an existing run of this workflow. Does not read the store.
   *
   * @param runId the run
   * @return the handle
   */
  RunHandle<O> run(long runId);

  /**
   * Starts building a worker that executes this workflow's runs.
   *
   * @return a builder
   */
  WorkflowWorker.Builder worker();
}
