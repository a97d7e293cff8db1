package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.queue.Outcome;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.testing.PostgresDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The store traffic of an idle consumer: each claim tells what it left, so a consumer that has
 * drained its queue waits for a wake-up or the due time of what is left without asking the store
 * again, neither with a probe nor with another claim.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsumerClaimTrafficTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;
  private Store installer;

  ConsumerClaimTrafficTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void install() {
    installer = Pgqrs.connect(db.dsn()).block(T);
    installer.admin().install().block(T);
  }

  @AfterAll
  void close() {
    installer.close().block(T);
  }

  @Test
  void aConsumerThatDrainedItsQueueWaitsForAWakeUpWithoutProbing() {
    PgqrsConfig config = PgqrsConfig.builder(db.dsn()).pollInterval(Duration.ofMinutes(10)).build();
    Map<String, AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
    StoreDriver real = Pgqrs.connect(config).map(s -> ((Engine) s).driver()).block(T);
    Engine engine = Engine.over(ObservedDriver.of(real, Map.of(),
        name -> calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet()), config);
    try {
      String queue = "traffic_" + System.nanoTime();
      engine.queues().create(queue).block(T);
      Sinks.Many<Long> handled = Sinks.many().replay().all();
      var subscription = engine.consumer(queue).concurrency(1).build()
          .handle(m -> Mono.fromRunnable(() -> handled.tryEmitNext(m.id())))
          .filter(o -> o.kind() == Outcome.Kind.ARCHIVED)
          .subscribe();
      try {
        // Listening and past its first claim (of the empty queue) before anything is enqueued.
        io.pgqrs.testing.StateWait.until("the first claim", T,
            () -> Mono.fromSupplier(() -> calls.containsKey("claim")));
        List<Long> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
          long id = engine.producer(queue).build().enqueue(Map.of("n", i)).block(T);
          ids.add(id);
          handled.asFlux().filter(h -> h == id).blockFirst(T);
        }
        assertThat(ids).hasSize(3);
        assertThat(calls.getOrDefault("untilNextVisible", new AtomicInteger())).as("probes of the next due message")
            .hasValue(0);
        // The first claim (of the empty queue) and the one after the LISTEN is in place, then one
        // per enqueue: an enqueue here wakes the consumer at once, and its NOTIFY, coming back to
        // this engine, is ignored.
        assertThat(calls.get("claim").get()).as("claims").isLessThanOrEqualTo(2 + 3);
      } finally {
        subscription.dispose();
      }
    } finally {
      engine.close().block(T);
    }
  }

  @Test
  void anEnqueueOnTheConsumersOwnEngineCostsExactlyOneClaim() {
    PgqrsConfig config = PgqrsConfig.builder(db.dsn()).pollInterval(Duration.ofMinutes(10)).build();
    Map<String, AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();
    StoreDriver real = Pgqrs.connect(config).map(s -> ((Engine) s).driver()).block(T);
    Engine engine = Engine.over(ObservedDriver.of(real, Map.of(),
        name -> calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet()), config);
    String queue = "own_" + System.nanoTime();
    String sentinel = "sentinel_" + System.nanoTime();
    engine.queues().create(queue).block(T);
    engine.queues().create(sentinel).block(T);
    // Both channels LISTENed before the consumer starts: no wake-up of a new LISTEN reaches it.
    Sinks.Many<String> woken = Sinks.many().replay().all();
    var listening = reactor.core.publisher.Flux.merge(real.wakeups(queue), real.wakeups(sentinel))
        .subscribe(woken::tryEmitNext);
    try {
      woken.asFlux().take(2).blockLast(T);
      Sinks.Many<Long> handled = Sinks.many().replay().all();
      var subscription = engine.consumer(queue).concurrency(1).build()
          .handle(m -> Mono.fromRunnable(() -> handled.tryEmitNext(m.id())))
          .filter(o -> o.kind() == Outcome.Kind.ARCHIVED)
          .subscribe();
      try {
        io.pgqrs.testing.StateWait.until("the first claim", T,
            () -> Mono.fromSupplier(() -> calls.containsKey("claim")));
        int first = calls.get("claim").get();
        int enqueues = 5;
        for (int i = 0; i < enqueues; i++) {
          long id = engine.producer(queue).build().enqueue(Map.of("n", i)).block(T);
          handled.asFlux().filter(h -> h == id).blockFirst(T);
        }
        // Every NOTIFY of those enqueues committed; then another engine's, which reaches this
        // engine's listener after all of them, on the one LISTEN connection.
        io.pgqrs.postgres.PostgresProbe.notifierIdle(real).block(T);
        installer.producer(sentinel).build().enqueue(Map.of("n", "sentinel")).block(T);
        woken.asFlux().skip(2).filter(sentinel::equals).blockFirst(T);
        long last = engine.producer(queue).build().enqueue(Map.of("n", enqueues)).block(T);
        handled.asFlux().filter(h -> h == last).blockFirst(T);
        assertThat(calls.get("claim").get() - first).as("claims after the first, for %d enqueues", enqueues + 1)
            .isEqualTo(enqueues + 1);
      } finally {
        subscription.dispose();
      }
    } finally {
      listening.dispose();
      engine.close().block(T);
    }
  }
}
