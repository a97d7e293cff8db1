package io.pgqrs.queue;

import java.time.Instant;

/**
 * A queue as stored.
 *
 * @param id the queue id
 * @param name the queue name, unique within a schema
 * @param maxAttempts deliveries after which a message is dead-lettered at its next claim
 * @param createdAt when the queue was created
 */
public record QueueInfo(long id, String name, int maxAttempts, Instant createdAt) {}
