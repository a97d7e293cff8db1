package io.pgqrs.queue;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The dequeue primitive and the lease operations. All methods are cold. Every lease operation is
 * fenced by the lease token and also requires the lease to be unexpired: a holder whose lease ran
 * out gets {@code false} and changes nothing, whoever holds the message now.
 */
public interface Messages {

  /**
   * Claims up to {@code limit} claimable messages of the queue under a lease of the configured
   * length, highest priority first, then oldest. Each claim increments the message's attempts and
   * issues a fresh lease token. Messages that already reached the queue's max attempts are
   * dead-lettered instead of delivered. Concurrent claimers never receive the same message.
   *
   * @param queue the queue name
   * @param limit the most messages to claim, at least 1
   * @return the claimed messages, possibly none; {@link QueueNotFoundException} for an unknown queue
   */
  Mono<List<Message>> claim(String queue, int limit);

  /**
   * Claims like {@link #claim(String, int)} with an explicit lease length and owner.
   *
   * @param queue the queue name
   * @param limit the most messages to claim, at least 1
   * @param lease how long the messages stay invisible to other claimers, above zero
   * @param workerId the worker that owns the leases, or null; it must be
   *     {@link io.pgqrs.worker.WorkerStatus#READY}
   * @return the claimed messages; {@link io.pgqrs.worker.WorkerNotFoundException} for an unknown
   *     worker and {@link io.pgqrs.worker.InvalidWorkerStateException} for a stopped or suspended
   *     one, with nothing leased
   */
  Mono<List<Message>> claim(String queue, int limit, Duration lease, @Nullable Long workerId);

  /**
   * Acknowledges a message by archiving it (kept for audit until retention purges it).
   *
   * @param lease the lease from the claim
   * @return true if archived; false if the lease was lost (expired or re-issued)
   */
  Mono<Boolean> archive(Lease lease);

  /**
   * Archives several leased messages in one statement.
   *
   * @param leases the leases
   * @return how many were archived; leases that were lost are skipped
   */
  Mono<Integer> archiveAll(List<Lease> leases);

  /**
   * Acknowledges a message by deleting it.
   *
   * @param lease the lease from the claim
   * @return true if deleted; false if the lease was lost
   */
  Mono<Boolean> delete(Lease lease);

  /**
   * Gives a message back: claimable again after {@code delay} (zero for at once). Its attempts stay
   * counted.
   *
   * @param lease the lease from the claim
   * @param delay non-negative delay before the message is claimable again
   * @param error the error to record as the message's last error, or null
   * @return true if released; false if the lease was lost
   */
  Mono<Boolean> release(Lease lease, Duration delay, @Nullable String error);

  /**
   * Gives a message back at once, recording no error.
   *
   * @param lease the lease from the claim
   * @return true if released; false if the lease was lost
   */
  Mono<Boolean> release(Lease lease);

  /**
   * Extends a lease so it ends {@code duration} from now.
   *
   * @param lease the lease from the claim
   * @param duration the new remaining length, above zero
   * @return the extended lease (same token, later expiry); empty if the lease was lost
   */
  Mono<Lease> extend(Lease lease, Duration duration);

  /**
   * Dead-letters a leased message at once, recording an error (used when a handler's last attempt
   * fails).
   *
   * @param lease the lease from the claim
   * @param error the error to record
   * @return true if dead-lettered; false if the lease was lost
   */
  Mono<Boolean> deadLetter(Lease lease, String error);

  /**
   * Reads one message in any state.
   *
   * @param id the message id
   * @return the message; {@link MessageNotFoundException} if there is none
   */
  Mono<Message> get(long id);

  /**
   * Lists the messages of a queue that are in one state, by id, starting after {@code afterId}:
   * the live ones (pending, leased and delayed alike: see {@link Message#isLeased} and
   * {@link Message#visibleAt()} to tell them apart), the archived or the dead ones. A read only; it
   * never changes a lease. Cold: each subscription reads the page again.
   * {@link DeadLetters#list} and {@link Archive#list} are this method for one state.
   *
   * @param queue the queue name
   * @param state the state to list
   * @param afterId list ids greater than this (0 for the start)
   * @param limit the page size, 1 to 10,000
   * @return the page; {@link QueueNotFoundException} for an unknown queue,
   *     {@link io.pgqrs.InvalidArgumentException} for a null state or a limit out of range
   */
  Flux<Message> list(String queue, MessageState state, long afterId, int limit);
}
