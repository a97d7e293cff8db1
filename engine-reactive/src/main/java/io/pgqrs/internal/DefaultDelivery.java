package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsTransientException;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/** A claimed message held by a {@link ConsumerSession} until it is settled or its lease is lost. */
final class DefaultDelivery implements Delivery {

  private static final Logger log = LoggerFactory.getLogger(DefaultDelivery.class);
  private static final Duration FIRST_SETTLE_RETRY = Duration.ofMillis(50);
  private static final Duration LONGEST_SETTLE_RETRY = Duration.ofSeconds(2);

  private final ConsumerSession session;
  private final Message message;
  private final AtomicBoolean settling = new AtomicBoolean();
  private volatile Lease lease;
  private volatile boolean settled;
  private volatile boolean lost;
  /** When the lease ends unless extended, on the engine's timers: the bound of a settle's retries. */
  private volatile long leaseEndsNanos;

  DefaultDelivery(ConsumerSession session, Message message) {
    this.session = session;
    this.message = message;
    this.lease = message.lease();
    this.leaseEndsNanos = leaseEndFromNow();
  }

  private long leaseEndFromNow() {
    return session.engine().timers().now(TimeUnit.NANOSECONDS) + session.settings().lease().toNanos();
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

  /** When the lease ends unless extended, in nanoseconds on the engine's timers. */
  long leaseEndsNanos() {
    return leaseEndsNanos;
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
      leaseEndsNanos = leaseEndFromNow();
    }
  }

  /**
   * Records that an extension found the lease gone, unless a settle is under way: an ack that
   * committed while the extension ran also makes the lease disappear, and that is no loss.
   *
   * @return true if the delivery is now lost; false if it was settled or is being settled
   */
  boolean markLost() {
    if (!settled && !settling.get()) {
      lost = true;
      session.forget(this);
      return true;
    }
    return false;
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
    // An archive whose answer was lost may have committed: a retry then finds no lease, and only
    // the archived row under this very token tells that the ack was ours after all. A batched
    // retry is told so by its statement; a lone one asks afterwards.
    return settle(() -> complete(StoreParams.Settle.archive(message.id(), lease.token())),
        () -> session.archivedUnder(lease), Telemetry.Settled.ARCHIVED);
  }

  @Override
  public Mono<Boolean> delete() {
    return settle(() -> complete(StoreParams.Settle.delete(message.id(), lease.token())), null,
        Telemetry.Settled.DELETED);
  }

  @Override
  public Mono<Boolean> release(Duration delay, @Nullable String error) {
    Objects.requireNonNull(delay, "delay");
    return settle(() -> {
      // Refused before the store is asked, as Messages.release refuses it.
      Engine.checkNotNegative("delay", delay);
      StoredText.check("error", error);
      return complete(StoreParams.Settle.release(message.id(), lease.token(), delay, error));
    }, null, Telemetry.Settled.RETRIED);
  }

  @Override
  public Mono<Boolean> deadLetter(String error) {
    Objects.requireNonNull(error, "error");
    return settle(() -> {
      StoredText.check("error", error);
      return complete(StoreParams.Settle.deadLetter(message.id(), lease.token(), error));
    }, null, Telemetry.Settled.DEAD_LETTERED);
  }

  /** One settle, through the session (with its next claim, or the engine's completer): whether the store did it. Cold. */
  private Mono<Boolean> complete(StoreParams.Settle settle) {
    return session.settle(settle).map(Completer::applied);
  }

  /**
   * Settles through a store operation of the caller's, fenced by this delivery's current lease:
   * the workflow runtime finishes or parks a run and settles its message in one transaction.
   */
  Mono<Boolean> settleWith(Function<Lease, Mono<Boolean>> operation) {
    return settle(() -> operation.apply(lease), null, null);
  }

  /**
   * Runs a settling operation once. A transient store error is retried with backoff for as long as
   * the lease lasts (as known when the settle began: extensions meanwhile do not prolong it). When
   * the settle cannot be recorded, the delivery lets go of the message: it counts as lost, is no
   * longer extended and frees its place, so the message is delivered again once its lease runs
   * out. Only a refused argument leaves the delivery held, for a corrected call.
   *
   * @param landedEarlier asked when a retry found the lease gone after an attempt whose answer was
   *     lost: whether that attempt took effect; null when the store cannot tell
   * @param how what the settle does, as the engine's telemetry counts it; null for a workflow's
   *     own settles, which its run meters count
   */
  private Mono<Boolean> settle(Supplier<Mono<Boolean>> operation, @Nullable Supplier<Mono<Boolean>> landedEarlier,
      Telemetry.@Nullable Settled how) {
    return Mono.defer(() -> {
      if (settled || lost || !settling.compareAndSet(false, true)) {
        return Mono.just(false);
      }
      long retryUntil = leaseEndsNanos;
      Mono<Boolean> attempt = Mono.defer(operation).defaultIfEmpty(false);
      // The retry machinery is built only once an attempt has failed: most settles succeed at once.
      return attempt
          .onErrorResume(e -> retriable(e, retryUntil), e -> retried(attempt, retryUntil, landedEarlier))
          .doOnNext(done -> {
            // false: the store no longer knows this lease, so nobody can settle it through us.
            settled = done;
            lost = !done;
            session.forget(this);
            Telemetry t = session.engine().telemetry();
            if (!done) {
              t.leaseLost(message.queue());
            } else if (how != null) {
              t.settled(message.queue(), how);
            }
          })
          .doOnError(this::notRecorded)
          .doOnCancel(() -> settling.set(false));
    });
  }

  /** Whether a settle that failed so may try again: a transient error, while the lease lasts. */
  private boolean retriable(Throwable error, long retryUntil) {
    return error instanceof PgqrsTransientException
        && session.engine().timers().now(TimeUnit.NANOSECONDS) < retryUntil;
  }

  /**
   * The settle again after a transient error, with backoff while the lease lasts. The failed
   * attempt may have taken effect with only its answer lost: a retry that then finds the lease gone
   * asks {@code landedEarlier} whether it was ours after all.
   */
  private Mono<Boolean> retried(Mono<Boolean> attempt, long retryUntil,
      @Nullable Supplier<Mono<Boolean>> landedEarlier) {
    Duration longest = session.settings().lease().dividedBy(4);
    Retry whileLeased = Retry.backoff(Long.MAX_VALUE, FIRST_SETTLE_RETRY.multipliedBy(2))
        .maxBackoff(longest.compareTo(LONGEST_SETTLE_RETRY) < 0 ? longest : LONGEST_SETTLE_RETRY)
        .filter(e -> retriable(e, retryUntil))
        .doBeforeRetry(r -> log.debug("pgqrs retries settling message {} after: {}", message.id(),
            r.failure().toString()))
        .scheduler(session.engine().timers());
    return Mono.delay(FIRST_SETTLE_RETRY, session.engine().timers())
        .then(attempt.retryWhen(whileLeased))
        .flatMap(done -> done || landedEarlier == null ? Mono.just(done)
            : landedEarlier.get().defaultIfEmpty(false).onErrorReturn(false));
  }

  private void notRecorded(Throwable error) {
    if (error instanceof InvalidArgumentException) {
      settling.set(false);
      return;
    }
    log.warn("pgqrs could not record the settling of message {} on queue '{}' and lets it go: it is delivered "
        + "again when its lease expires: {}", message.id(), session.settings().queue(), error.toString());
    lost = true;
    session.forget(this);
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
