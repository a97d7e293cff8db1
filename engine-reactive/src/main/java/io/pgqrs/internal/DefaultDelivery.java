package io.pgqrs.internal;

import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** A claimed message held by a {@link ConsumerSession} until it is settled or its lease is lost. */
final class DefaultDelivery implements Delivery {

  private final ConsumerSession session;
  private final Message message;
  private final AtomicBoolean settling = new AtomicBoolean();
  private volatile Lease lease;
  private volatile boolean settled;
  private volatile boolean lost;

  DefaultDelivery(ConsumerSession session, Message message) {
    this.session = session;
    this.message = message;
    this.lease = message.lease();
  }

  @Override
  public Message message() {
    return message;
  }

  @Override
  public <T> T payload(Class<T> type) {
    return session.engine().objectMapper().convertValue(message.payload(), type);
  }

  Lease lease() {
    return lease;
  }

  long id() {
    return message.id();
  }

  int attempts() {
    return message.attempts();
  }

  /** Records an extension; ignored once the delivery is settled. */
  void extended(Lease extended) {
    if (extended.token().equals(lease.token())) {
      lease = extended;
    }
  }

  /** Records that an extension found the lease gone. */
  void markLost() {
    if (!settled && !settling.get()) {
      lost = true;
      session.forget(this);
    }
  }

  /** Settles without touching the store: used when the session itself released the message. */
  boolean claimForRelease() {
    return !settled && !lost && settling.compareAndSet(false, true);
  }

  void releasedBySession() {
    settled = true;
    session.forget(this);
  }

  @Override
  public Mono<Boolean> ack() {
    return settle(() -> session.archive(this));
  }

  @Override
  public Mono<Boolean> delete() {
    return settle(() -> session.engine().messages().delete(lease));
  }

  @Override
  public Mono<Boolean> release(Duration delay, @Nullable String error) {
    Objects.requireNonNull(delay, "delay");
    return settle(() -> session.engine().messages().release(lease, delay, error));
  }

  @Override
  public Mono<Boolean> deadLetter(String error) {
    Objects.requireNonNull(error, "error");
    return settle(() -> session.engine().messages().deadLetter(lease, error));
  }

  /**
   * Settles through a store operation of the caller's, fenced by this delivery's current lease:
   * the workflow runtime finishes or parks a run and settles its message in one transaction.
   */
  Mono<Boolean> settleWith(Function<Lease, Mono<Boolean>> operation) {
    return settle(() -> operation.apply(lease));
  }

  private Mono<Boolean> settle(Supplier<Mono<Boolean>> operation) {
    return Mono.defer(() -> {
      if (settled || lost || !settling.compareAndSet(false, true)) {
        return Mono.just(false);
      }
      return operation.get()
          .defaultIfEmpty(false)
          .doOnNext(done -> {
            // false: the store no longer knows this lease, so nobody can settle it through us.
            settled = done;
            lost = !done;
            session.forget(this);
          })
          .doOnError(e -> settling.set(false))
          .doOnCancel(() -> settling.set(false));
    });
  }

  @Override
  public boolean leaseLost() {
    return lost;
  }

  @Override
  public boolean settled() {
    return settled;
  }

  @Override
  public String toString() {
    return "Delivery[message=" + message.id() + ", attempts=" + message.attempts() + ", settled=" + settled
        + ", lost=" + lost + "]";
  }
}
