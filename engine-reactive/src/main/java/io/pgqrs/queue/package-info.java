/**
 * Queues and their messages: {@link io.pgqrs.queue.Queues} creates and lists queues,
 * {@link io.pgqrs.queue.Producer} enqueues (with {@link io.pgqrs.queue.ValidationRules} and a
 * {@link io.pgqrs.queue.RateLimit}), {@link io.pgqrs.queue.Consumer} streams
 * {@link io.pgqrs.queue.Delivery deliveries} under leases or runs a handler that emits an
 * {@link io.pgqrs.queue.Outcome} per message, {@link io.pgqrs.queue.Messages} is the low-level
 * claim/settle API, and {@link io.pgqrs.queue.DeadLetters} and {@link io.pgqrs.queue.Archive} hold
 * what left the live set. A consumer registers a worker of {@link io.pgqrs.worker}; durable
 * workflows of {@link io.pgqrs.workflow} run on queues of the same name. The exceptions here are
 * the queue-specific branches of {@link io.pgqrs.PgqrsException}.
 */
@NullMarked
package io.pgqrs.queue;

import org.jspecify.annotations.NullMarked;
