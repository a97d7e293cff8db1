package io.pgqrs.queue;

import io.pgqrs.PgqrsException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * One message handed out by {@link Consumer#deliveries()}, under a lease that the consumer keeps
 * extending until the delivery is settled. Settle each delivery exactly once with {@link #ack()},
 * {@link #delete()}, {@link #release(Duration, String)} or {@link #deadLetter(String)}; until then
 * it counts against the consumer's bound on messages held.
 *
 * <p>The settling methods are cold, fenced by the lease token, and idempotent: the first one that
 * takes effect settles the delivery and later calls return {@code false} without touching the
 * store. They return {@code false} too when the lease was lost (see {@link #leaseLost()}).
 *
 * <p>A settle that meets a transient store error (a connection reset, a busy database) is retried
 * with backoff for as long as the lease lasts. If it still cannot be recorded, the error is
 * signalled (a {@link PgqrsException}) and the delivery lets go of the message: it is no longer
 * extended, no longer counts against the consumer's bound, and {@link #leaseLost()} becomes true,
 * so the message is delivered again once its lease runs out. Only an argument the engine refuses
 * ({@link io.pgqrs.InvalidArgumentException}) leaves the delivery held for a corrected call.
 * Cancelling a settle leaves the delivery held and unsettled.
 */
public interface Delivery {

  /**
   * The message as claimed.
   *
   * @return the message
   */
  Message message();

  /**
   * The payload converted to a type with the store's Jackson mapper.
   *
   * @param type the target type
   * @param <T> the target type
   * @return the converted payload
   * @throws IllegalArgumentException if the payload does not convert
   */
  <T> T payload(Class<T> type);

  /**
   * Acknowledges by archiving. Acks of one consumer that complete close together are written in
   * one statement; on PostgreSQL an ack made while the subscription is about to claim goes in that
   * claim's statement (one commit for both), and otherwise at once.
   *
   * @return true if archived; false if already settled or the lease was lost
   */
  Mono<Boolean> ack();

  /**
   * Acknowledges by deleting.
   *
   * @return true if deleted; false if already settled or the lease was lost
   */
  Mono<Boolean> delete();

  /**
   * Gives the message back, claimable again after {@code delay}; the attempt stays counted.
   *
   * @param delay the delay, zero or more
   * @param error recorded as the message's last error, or null
   * @return true if released; false if already settled or the lease was lost
   */
  Mono<Boolean> release(Duration delay, @Nullable String error);

  /**
   * Dead-letters the message at once.
   *
   * @param error the error to record
   * @return true if dead-lettered; false if already settled or the lease was lost
   */
  Mono<Boolean> deadLetter(String error);

  /**
   * Whether the lease is lost: an extension found it gone, a settle found it gone, or a settle
   * that could not be recorded let the message go. A lost delivery cannot be settled: another
   * consumer may hold the message now.
   *
   * @return true once the lease is known to be lost
   */
  boolean leaseLost();

  /**
   * Whether the delivery has been settled.
   *
   * @return true once a settling call took effect
   */
  boolean settled();
}
