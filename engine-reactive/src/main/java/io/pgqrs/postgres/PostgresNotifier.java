package io.pgqrs.postgres;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * One engine's wake-ups, sent after the writes they announce have committed, coalesced.
 *
 * <p>PostgreSQL serialises at commit every transaction that queued a notification, on one global
 * lock. So the engine's writes notify nobody in their own transaction: once one has committed, the
 * driver asks this notifier to announce its queue's channel (or the runs it finished). At most one
 * NOTIFY statement of the engine is in flight; everything asked for while it runs goes together in
 * the next one, the moment it completes. An engine that is quiet sends at once, so a wake-up costs
 * one round trip after the commit and no timer; a busy engine sends far fewer statements than it
 * writes. Nothing asked for is dropped by coalescing.
 *
 * <p>A queue's notification carries this engine's {@link #origin()}: the engine's listener, which
 * woke its own consumers in process already, ignores it when it comes back. A finished run's
 * notification carries run ids, several to a payload, separated by commas, each payload within
 * PostgreSQL's limit.
 *
 * <p>Sending is best effort, since consumers and result waiters also poll: a NOTIFY that fails
 * never fails the write (that has committed already). It is logged and what it carried goes once
 * more with the next statement; failing again, it is dropped with a warning.
 */
final class PostgresNotifier {

  private static final Logger log = LoggerFactory.getLogger(PostgresNotifier.class);

  /**
   * The most bytes of one payload. PostgreSQL refuses a payload of 8000 bytes or more; one batch of
   * run ids stays well below it.
   */
  static final int MAX_PAYLOAD_BYTES = 7900;

  /** How long after a failed send its retry waits when nothing else is asked for meanwhile. */
  private static final Duration RETRY_DELAY = Duration.ofMillis(200);

  /** How long closing waits for a send in flight. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  /** One NOTIFY statement: channel {@code channels[i]} gets payload {@code payloads[i]}. */
  @FunctionalInterface
  interface Sender {
    /**
     * Sends the notifications in one statement. Cold; fails as the statement does.
     *
     * @return completes once the notifications are committed
     */
    Mono<Void> send(String[] channels, String[] payloads);
  }

  private final String origin;
  private final String runsChannel;
  private volatile Sender sender;
  private final AtomicLong statements = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final Sinks.Empty<Void> drained = Sinks.empty();

  private final Object lock = new Object();
  // Guarded by lock: what is asked for and not sent yet, fresh or already failed once.
  private Set<String> queues = new LinkedHashSet<>();
  private Set<Long> runs = new LinkedHashSet<>();
  private Set<String> retryQueues = new LinkedHashSet<>();
  private Set<Long> retryRuns = new LinkedHashSet<>();
  private boolean sending;
  private boolean closing;
  private List<Sinks.Empty<Void>> idleWaiters = new ArrayList<>();

  /**
   * A notifier that has sent nothing yet.
   *
   * @param origin the payload of this engine's queue notifications, which its listener ignores
   * @param runsChannel the channel announcing finished runs
   * @param sender what sends one NOTIFY statement
   */
  PostgresNotifier(String origin, String runsChannel, Sender sender) {
    this.origin = origin;
    this.runsChannel = runsChannel;
    this.sender = sender;
  }

  /** The payload of this engine's queue notifications. */
  String origin() {
    return origin;
  }

  /**
   * Announces new work on a queue's channel; call it only after the write has committed. Never
   * blocks and never throws: the NOTIFY goes now, or with the next statement if one is in flight.
   *
   * @param channel the queue's channel, from {@link PostgresListener#channel}
   */
  void queue(String channel) {
    synchronized (lock) {
      if (closing) {
        return;
      }
      queues.add(channel);
    }
    drain();
  }

  /**
   * Announces finished runs; call it only after their finish has committed. Never blocks and never
   * throws, as {@link #queue}.
   *
   * @param runIds the runs that finished
   */
  void runs(Collection<Long> runIds) {
    if (runIds.isEmpty()) {
      return;
    }
    synchronized (lock) {
      if (closing) {
        return;
      }
      runs.addAll(runIds);
    }
    drain();
  }

  /** NOTIFY statements sent (or tried) so far. */
  long statements() {
    return statements.get();
  }

  /** NOTIFY statements that failed so far. */
  long failures() {
    return failures.get();
  }

  /**
   * Completes once nothing is in flight or waiting to be sent. Cold; never fails; a send that fails
   * and waits for its retry counts as waiting.
   */
  Mono<Void> idle() {
    return Mono.defer(() -> {
      Sinks.Empty<Void> waiter = Sinks.empty();
      synchronized (lock) {
        if (!sending && nothingPending()) {
          return Mono.<Void>empty();
        }
        idleWaiters.add(waiter);
      }
      return waiter.asMono();
    });
  }

  /** Replaces how statements are sent, around the current way; for tests that make sending fail. */
  void decorate(UnaryOperator<Sender> decorator) {
    sender = decorator.apply(sender);
  }

  private boolean nothingPending() {
    return queues.isEmpty() && runs.isEmpty() && retryQueues.isEmpty() && retryRuns.isEmpty();
  }

  /** What one statement carries: asked for since the last one, and what failed once before. */
  private record Batch(Set<String> queues, Set<Long> runs, Set<String> retriedQueues, Set<Long> retriedRuns) {}

  /** Sends everything pending in one statement unless one is in flight: its end sends the rest. */
  private void drain() {
    Batch batch = null;
    List<Sinks.Empty<Void>> nowIdle = List.of();
    synchronized (lock) {
      if (closing && queues.isEmpty() && runs.isEmpty()) {
        // What only waits for its retry is not sent on a store being closed.
        retryQueues.clear();
        retryRuns.clear();
      }
      if (!sending && !nothingPending()) {
        sending = true;
        batch = new Batch(queues, runs, retryQueues, retryRuns);
        queues = new LinkedHashSet<>();
        runs = new LinkedHashSet<>();
        retryQueues = new LinkedHashSet<>();
        retryRuns = new LinkedHashSet<>();
      } else if (!sending && !idleWaiters.isEmpty()) {
        nowIdle = idleWaiters;
        idleWaiters = new ArrayList<>();
      }
    }
    nowIdle.forEach(Sinks.Empty::tryEmitEmpty);
    if (batch != null) {
      send(batch);
    }
  }

  private void send(Batch batch) {
    List<String> channels = new ArrayList<>();
    List<String> payloads = new ArrayList<>();
    Set<String> allQueues = new LinkedHashSet<>(batch.queues());
    allQueues.addAll(batch.retriedQueues());
    for (String channel : allQueues) {
      channels.add(channel);
      payloads.add(origin);
    }
    Set<Long> allRuns = new LinkedHashSet<>(batch.runs());
    allRuns.addAll(batch.retriedRuns());
    for (String payload : runPayloads(allRuns)) {
      channels.add(runsChannel);
      payloads.add(payload);
    }
    statements.incrementAndGet();
    Mono<Void> send;
    try {
      send = sender.send(channels.toArray(String[]::new), payloads.toArray(String[]::new));
    } catch (RuntimeException e) {
      send = Mono.error(e);
    }
    send.subscribe(null, error -> sent(error, batch), () -> sent(null, batch));
  }

  /** After a statement: a failure's fresh part waits for its one retry; then the next statement goes. */
  private void sent(@Nullable Throwable error, Batch batch) {
    boolean retryLater = false;
    if (error != null) {
      failures.incrementAndGet();
      int dropped = batch.retriedQueues().size() + batch.retriedRuns().size();
      if (dropped > 0) {
        log.warn("pgqrs could not send {} wake-up(s) a second time, dropped; consumers and result waiters find"
            + " the work at their next poll: {}", dropped, error.toString());
      } else {
        log.debug("pgqrs could not send wake-ups, retrying once with the next batch: {}", error.toString());
      }
    }
    boolean closed;
    synchronized (lock) {
      sending = false;
      if (error != null && !closing) {
        retryQueues.addAll(batch.queues());
        retryRuns.addAll(batch.runs());
        // Nothing new to ride along with: the retry goes after a pause instead of at once, so a
        // store that is down is not hammered.
        retryLater = queues.isEmpty() && runs.isEmpty();
      }
      closed = closing && queues.isEmpty() && runs.isEmpty();
    }
    if (closed) {
      drained.tryEmitEmpty();
    }
    if (retryLater) {
      Mono.delay(RETRY_DELAY, Schedulers.parallel()).subscribe(t -> drain());
    } else {
      drain();
    }
  }

  /** Run ids as payloads of comma-separated decimals, each within {@link #MAX_PAYLOAD_BYTES}. */
  static List<String> runPayloads(Collection<Long> runIds) {
    List<String> payloads = new ArrayList<>();
    StringBuilder payload = new StringBuilder();
    for (long id : runIds) {
      String text = Long.toString(id);
      if (payload.length() > 0 && payload.length() + 1 + text.length() > MAX_PAYLOAD_BYTES) {
        payloads.add(payload.toString());
        payload.setLength(0);
      }
      if (payload.length() > 0) {
        payload.append(',');
      }
      payload.append(text);
    }
    if (payload.length() > 0) {
      payloads.add(payload.toString());
    }
    // ASCII digits and commas: characters are bytes.
    assert payloads.stream().allMatch(p -> p.getBytes(StandardCharsets.US_ASCII).length <= MAX_PAYLOAD_BYTES);
    return payloads;
  }

  /**
   * Stops taking announcements and waits (at most two seconds) for what is in flight or pending to
   * be sent, so that writes committed before closing still wake other engines. Cold; never fails.
   */
  Mono<Void> close() {
    return Mono.defer(() -> {
      synchronized (lock) {
        closing = true;
        if (!sending) {
          return Mono.<Void>empty();
        }
      }
      return drained.asMono().timeout(CLOSE_TIMEOUT, Mono.empty());
    });
  }
}
