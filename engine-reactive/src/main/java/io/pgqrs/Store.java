package io.pgqrs;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.admin.Admin;
import io.pgqrs.admin.Maintenance;
import io.pgqrs.queue.Archive;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.DeadLetters;
import io.pgqrs.queue.Messages;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.Queues;
import io.pgqrs.schedule.Schedules;
import io.pgqrs.worker.Workers;
import io.pgqrs.workflow.Runs;
import reactor.core.publisher.Mono;

/**
 * A connected pgqrs engine: the entry point to every operation on one schema of one database.
 * Obtain it from {@link Pgqrs#connect(String)}. Thread-safe; share one per application and
 * {@link #close()} it on shutdown.
 *
 * <p>Every method that touches the store returns a cold {@code Mono} or {@code Flux}: nothing is
 * sent until subscription, and each subscription runs the operation again. Errors are always a
 * {@link PgqrsException}. Cancelling a subscription rolls back a transaction in progress and
 * returns its connection to the pool.
 */
public interface Store {

  /**
   * Schema management and metrics.
   *
   * @return the admin operations
   */
  Admin admin();

  /**
   * Queue management.
   *
   * @return the queue operations
   */
  Queues queues();

  /**
   * Starts building a producer for a queue. Producers are cheap, reusable and thread-safe.
   *
   * @param queue the queue to write to; it must exist when the producer first enqueues
   * @return a builder
   * @throws InvalidArgumentException if the queue name is invalid
   */
  Producer.Builder producer(String queue);

  /**
   * Starts building a consumer: a backpressured stream of a queue's messages, or a handler
   * runtime. Consumers are cheap, reusable and thread-safe; each subscription is one worker.
   *
   * @param queue the queue to consume; it must exist when a consumer subscribes
   * @return a builder
   * @throws InvalidArgumentException if the queue name is invalid
   */
  Consumer.Builder consumer(String queue);

  /**
   * Claims and lease operations on messages.
   *
   * @return the message operations
   */
  Messages messages();

  /**
   * Dead-lettered messages: list, replay, purge.
   *
   * @return the dead-letter operations
   */
  DeadLetters deadLetters();

  /**
   * Archived messages: list and purge by age.
   *
   * @return the archive operations
   */
  Archive archive();

  /**
   * Worker registration, heartbeats, lifecycle and health.
   *
   * @return the worker operations
   */
  Workers workers();

  /**
   * Durable workflows: register definitions, inspect and control runs, and the low-level
   * execution API.
   *
   * @return the workflow operations
   */
  Runs runs();

  /**
   * Cron schedules that trigger workflow runs or enqueue messages, fired by the
   * {@link Maintenance#scheduler() scheduler} of every connected store.
   *
   * @return the schedule operations
   */
  Schedules schedules();

  /**
   * Background maintenance: the services this store runs on its own every
   * {@link PgqrsConfig#maintenanceInterval()}, and ways to run them now.
   *
   * @return the maintenance operations
   */
  Maintenance maintenance();

  /**
   * What this store's backend can do.
   *
   * @return the capabilities
   */
  Capabilities capabilities();

  /**
   * The configuration this store was connected with.
   *
   * @return the configuration
   */
  PgqrsConfig config();

  /**
   * The Jackson mapper used for payloads: a copy of the one given at connect, with the same
   * configuration, whose reads and writes keep within the limits the engine reads stored JSON back
   * with (nesting depth 1000, Jackson's default read limits).
   *
   * @return the mapper
   */
  ObjectMapper objectMapper();

  /**
   * Shuts down every consumer subscription of this store gracefully (each within its shutdown
   * timeout), stops background maintenance (letting a batch in progress finish, or cancelling it
   * if it takes too long), then closes the connection pool. Cold; idempotent. A consumer whose
   * worker is still registering when close begins is stopped by it (its worker ends stopped); a
   * consumer subscribed once close has begun fails with {@link StoreUnavailableException} and
   * registers nothing, as does every operation subscribed after completion.
   *
   * @return completes when the pool is closed
   */
  Mono<Void> close();
}
