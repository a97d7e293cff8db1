package io.pgqrs.queue;

import io.pgqrs.InvalidArgumentException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Queue management. All methods are cold; names are checked before anything is sent, and an
 * invalid name fails with {@link InvalidArgumentException}.
 */
public interface Queues {

  /**
   * Creates a queue whose messages are dead-lettered after the configured default max attempts.
   *
   * @param name the queue name: 1 to 63 characters, letters, digits, {@code _ - .}, not starting
   *     with a digit, dash or dot
   * @return the created queue; {@link QueueAlreadyExistsException} if it exists
   */
  Mono<QueueInfo> create(String name);

  /**
   * Creates a queue with its own max attempts.
   *
   * @param name the queue name
   * @param maxAttempts deliveries after which a message is dead-lettered, at least 1
   * @return the created queue; {@link QueueAlreadyExistsException} if it exists
   */
  Mono<QueueInfo> create(String name, int maxAttempts);

  /**
   * Creates a queue with options: its max attempts, its global concurrency limit and its claim
   * rate limit (see {@link QueueOptions}). Cold.
   *
   * @param name the queue name
   * @param options the options; an unset max attempts takes the engine's default
   * @return the created queue; {@link QueueAlreadyExistsException} if it exists
   */
  Mono<QueueInfo> create(String name, QueueOptions options);

  /**
   * Changes a queue's options, for every engine at once: the next claim on the database applies
   * them. The concurrency limit and the claim rate are replaced (unset removes them; a changed rate
   * starts with a full bucket); an unset max attempts keeps the queue's. Leases held already are never taken back: lowering the limit below what is leased
   * only stops new claims until enough are settled or expire. Cold; cancelling before the answer
   * may still leave the change made.
   *
   * @param name the queue name
   * @param options the new options
   * @return the queue as changed; {@link QueueNotFoundException} if there is none
   */
  Mono<QueueInfo> configure(String name, QueueOptions options);

  /**
   * Reads one queue.
   *
   * @param name the queue name
   * @return the queue; {@link QueueNotFoundException} if there is none
   */
  Mono<QueueInfo> get(String name);

  /**
   * Lists every queue, ordered by name.
   *
   * @return the queues
   */
  Flux<QueueInfo> list();

  /**
   * Deletes every live message (pending, leased, delayed) of the queue. Archived and dead messages
   * stay.
   *
   * @param name the queue name
   * @return how many messages were deleted; {@link QueueNotFoundException} if there is no queue
   */
  Mono<Long> purge(String name);

  /**
   * Deletes an empty queue with no active workers, with its archive and dead letters.
   *
   * @param name the queue name
   * @return completes when deleted; {@link QueueNotEmptyException} naming the live messages and
   *     active workers if it has any; {@link QueueNotFoundException} if there is no queue
   */
  Mono<Void> delete(String name);

  /**
   * Deletes a queue, optionally even while it has live messages or registered workers (those
   * messages and workers are deleted with it).
   *
   * @param name the queue name
   * @param force delete even when not empty
   * @return completes when deleted
   */
  Mono<Void> delete(String name, boolean force);

  /**
   * Counts of one queue.
   *
   * @param name the queue name
   * @return the metrics; {@link QueueNotFoundException} if there is no queue
   */
  Mono<QueueMetrics> metrics(String name);

  /**
   * Messages of a queue archived per interval over a recent window, by the store's clock: the
   * window {@code (now - window, now]} cut into {@code window / bucket} equal intervals, oldest
   * first, every interval present (zero when nothing was archived in it). One statement over the
   * archive index. Archived messages that retention has purged, or that were deleted rather than
   * archived, are not counted. Cold: the store is read when subscribed; cancelling abandons the read.
   *
   * @param name the queue name
   * @param window how far back, more than zero and at most 24 hours, a whole multiple of {@code bucket}
   * @param bucket each interval's length, at least one minute
   * @return the intervals; {@link QueueNotFoundException} if there is no queue,
   *     {@link io.pgqrs.InvalidArgumentException} naming {@code window} or {@code bucket} when out of bounds
   */
  Mono<java.util.List<ThroughputBucket>> throughput(String name, java.time.Duration window, java.time.Duration bucket);

  /**
   * How many messages of a queue a claim could take now: live and visible (neither delayed nor
   * leased). Cheap: it reads only the queue's live rows, through the claim index, never the
   * archived or dead ones, so it suits a frequent poll (autoscaling, a health probe) where
   * {@link #metrics(String)} would scan the whole archive. Cold.
   *
   * @param name the queue name
   * @return the count; {@link QueueNotFoundException} if there is no queue
   */
  Mono<Long> claimable(String name);
}
