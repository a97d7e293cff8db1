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
   * A view of this workflow whose triggers run on the caller's connection, inside the caller's own
   * transaction (PostgreSQL only): the run and its trigger message commit together with the caller's
   * writes, or not at all. The caller begins the transaction before subscribing and commits, rolls
   * back and closes the connection; the view never does. Workers (of any engine, this one included)
   * are woken when the caller commits, never before, and no worker of this engine takes the run in
   * the trigger itself. Input checks and idempotency keys behave as on this workflow (a run keyed
   * earlier in the same transaction is returned). The handle names a run that exists only once the
   * caller commits: after a rollback {@code info()} is empty and {@code result()} never completes,
   * so subscribe to {@code result()} after the commit. {@link #run}, {@link #worker} and
   * {@link #definition} are this workflow's.
   *
   * <p>Does not touch the store, and may be called before the transaction begins. Triggers of the
   * view fail, when subscribed, with {@link io.pgqrs.ConfigurationException} on a backend without
   * {@link io.pgqrs.Capabilities#transactionalEnqueue()} (SQLite, Turso), and with
   * {@link InvalidArgumentException} naming {@code connection} when the connection is in autocommit
   * mode. A failed trigger aborts the caller's transaction, which must then be rolled back.
   *
   * @param connection the caller's R2DBC connection to the store's database, in a transaction
   * @return the bound view
   * @throws InvalidArgumentException naming {@code connection} when it is null
   */
  Workflow<I, O> inTransaction(io.r2dbc.spi.Connection connection);

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
