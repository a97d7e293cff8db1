package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.RateLimit;
import io.pgqrs.queue.RateLimitedException;
import io.pgqrs.testing.StateWait;
import io.pgqrs.worker.WorkerInfo;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The engine's own time comes from the configuration: its timers run on the injected scheduler
 * (here virtual time, advanced by hand) and its rate limits on the injected clock (here a settable
 * one), so neither needs a test to sleep. On an in-memory SQLite store; the backend does not matter.
 */
class SqliteInjectedTimeTest {

  private static final Duration T = Duration.ofSeconds(30);

  private static Store open(UnaryOperator<PgqrsConfig.Builder> options) {
    String dsn = "sqlite::memory:?name=time" + UUID.randomUUID().toString().replace("-", "");
    Store store = Pgqrs.connect(options.apply(PgqrsConfig.builder(dsn)).build()).block(T);
    store.admin().install().block(T);
    return store;
  }

  @Test
  void anIdleConsumerPollsAndHeartbeatsOnlyAsTheInjectedSchedulerAdvances() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    // No wake-ups and an hour between polls and heartbeats: only the injected timers can make the
    // consumer look again, and only virtual time can make an hour pass within this test.
    Store store = open(b -> b.wakeups(false).pollInterval(Duration.ofHours(1)).heartbeatInterval(Duration.ofHours(1))
        .maintenanceInterval(Duration.ZERO).scheduler(time));
    AtomicReference<Delivery> delivered = new AtomicReference<>();
    try {
      store.queues().create("timed").block(T);
      StepVerifier.create(store.consumer("timed").build().deliveries())
          // Idle: the heartbeat, the lease keep-alive and the poll timer wait on virtual time.
          .then(() -> StateWait.until("the consumer's timers are armed", T,
              () -> Mono.fromSupplier(time::getScheduledTaskCount), n -> n >= 3))
          .then(() -> {
            WorkerInfo worker = store.workers().list("timed").blockFirst(T);
            assertThat(worker.heartbeatAt()).as("no heartbeat before virtual time moves").isEqualTo(worker.startedAt());
            store.producer("timed").build().enqueue(Map.of("n", 1)).block(T);
          })
          .then(() -> time.advanceTimeBy(Duration.ofHours(2)))
          .consumeNextWith(d -> {
            assertThat(d.message().payload().get("n").asInt()).isEqualTo(1);
            delivered.set(d);
          })
          .then(() -> StateWait.until("a heartbeat ran", T, () -> store.workers().list("timed").next(),
              w -> w.heartbeatAt().isAfter(w.startedAt())))
          .then(() -> assertThat(delivered.get().ack().block(T)).isTrue())
          .thenCancel()
          .verify(T);
    } finally {
      store.close().block(T);
      time.dispose();
    }
  }

  /** A clock that moves only when told to. */
  private static final class SettableClock extends Clock {
    private volatile Instant now;

    SettableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("a test clock stays in UTC");
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aProducersRateLimitIsPacedByTheInjectedClock() {
    SettableClock clock = new SettableClock(Instant.parse("2030-01-01T00:00:00Z"));
    Store store = open(b -> b.clock(clock).maintenanceInterval(Duration.ZERO));
    try {
      store.queues().create("paced").block(T);
      Producer producer = store.producer("paced").rateLimit(new RateLimit(1, 1)).build();
      StepVerifier.create(producer.enqueue(Map.of("n", 1))).expectNextCount(1).expectComplete().verify(T);
      StepVerifier.create(producer.enqueue(Map.of("n", 2)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RateLimitedException.class,
              r -> assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(1))))
          .verify(T);
      clock.advance(Duration.ofMillis(500));
      StepVerifier.create(producer.enqueue(Map.of("n", 3))).expectError(RateLimitedException.class).verify(T);
      clock.advance(Duration.ofMillis(600));
      StepVerifier.create(producer.enqueue(Map.of("n", 4))).expectNextCount(1).expectComplete().verify(T);
      assertThat(store.queues().metrics("paced").block(T).live()).isEqualTo(2);
    } finally {
      store.close().block(T);
    }
  }
}
