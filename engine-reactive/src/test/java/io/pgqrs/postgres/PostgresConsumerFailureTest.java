package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.Outcome;
import io.pgqrs.testing.ChildJvm;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** Consumers under failure on PostgreSQL: a killed process, a killed listener, many engines at once. */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresConsumerFailureTest {

  private static final Duration T = Duration.ofSeconds(60);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresConsumerFailureTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    store = Pgqrs.connect(db.dsn()).block(T);
    store.admin().install().block(T);
  }

  @AfterAll
  void close() {
    store.close().block(T);
  }

  private void enqueue(String queue, int count) {
    for (int from = 0; from < count; from += 1000) {
      int to = Math.min(count, from + 1000);
      store.producer(queue).build()
          .enqueuePayloads(IntStream.range(from, to).mapToObj(n -> Map.of("n", n)).toList()).block(T);
    }
  }

  /**
   * The child process: handles the queue slowly with a short lease, printing each message id as
   * its handler starts, until it is killed. Nothing is claimed ahead of its four handlers, so it
   * holds exactly the four it started.
   *
   * @param args the DSN and the queue
   */
  public static void main(String[] args) {
    Store child = Pgqrs.connect(args[0]).block(T);
    child.consumer(args[1]).lease(Duration.ofSeconds(2)).concurrency(4).prefetch(0).batchSize(4).build()
        .handle(m -> Mono.fromRunnable(() -> System.out.println("START " + m.id()))
            .then(Mono.delay(Duration.ofMinutes(10))))
        .blockLast();
  }

  @Test
  void messagesOfAKilledConsumerComeBackAfterTheirLease() throws IOException, InterruptedException {
    store.queues().create("crash").block(T);
    enqueue("crash", 40);
    int started = ChildJvm.killAfter(PostgresConsumerFailureTest.class, line -> line.startsWith("START "), 4,
        db.dsn(), "crash");
    assertThat(started).isEqualTo(4);
    assertThat(store.queues().metrics("crash").block(T).leased()).isEqualTo(4);

    Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
    List<Outcome> outcomes = store.consumer("crash").pollInterval(Duration.ofMillis(200)).concurrency(8).build()
        .handle(m -> Mono.fromRunnable(() -> handled.computeIfAbsent(m.id(), id -> new AtomicInteger()).incrementAndGet()))
        .take(40)
        .collectList()
        .block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    assertThat(handled).hasSize(40);
    assertThat(handled.values()).allMatch(n -> n.get() == 1);
    assertThat(outcomes).filteredOn(o -> o.attempts() == 2).hasSize(4); // the four the child held
    assertThat(store.queues().metrics("crash").block(T).archived()).isEqualTo(40);
  }

  @Test
  void aStreamKeepsDeliveringWhenItsListenerIsKilled() {
    store.queues().create("relisten").block(T);
    Consumer consumer = store.consumer("relisten").pollInterval(Duration.ofSeconds(2)).build();
    StepVerifier.create(consumer.deliveries().flatMap(d -> d.ack().thenReturn(d.message().id())))
        .then(() -> enqueue("relisten", 5))
        .expectNextCount(5)
        .then(() -> Flux.usingWhen(db.adminConnectionFactory().create(),
                c -> Flux.from(c.createStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    + "WHERE application_name = 'pgqrs-listener'").execute()).flatMap(r -> r.getRowsUpdated()),
                Connection::close)
            .blockLast(T))
        .then(() -> enqueue("relisten", 5))
        .expectNextCount(5)
        .then(() -> enqueue("relisten", 5))
        .expectNextCount(5)
        .thenCancel()
        .verify(T);
    assertThat(store.queues().metrics("relisten").block(T).archived()).isEqualTo(15);
  }

  @Test
  void threeEnginesHandleTwentyThousandMessagesExactlyOnce() {
    int total = 20_000;
    store.queues().create("shared").block(T);
    enqueue("shared", total);
    List<Store> engines = Flux.range(0, 3).flatMap(i -> Pgqrs.connect(db.dsn())).collectList().block(T);
    try {
      Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
      AtomicInteger outcomes = new AtomicInteger();
      Sinks.Empty<Void> stop = Sinks.empty();
      Long archived = Flux.fromIterable(engines)
          .flatMap(e -> e.consumer("shared").concurrency(32).batchSize(50).build()
              .handle(m -> Mono.fromRunnable(() -> handled.computeIfAbsent(m.id(), id -> new AtomicInteger())
                  .incrementAndGet()), stop.asMono()))
          .doOnNext(o -> {
            if (outcomes.incrementAndGet() == total) {
              stop.tryEmitEmpty();
            }
          })
          .filter(o -> o.kind() == Outcome.Kind.ARCHIVED)
          .count()
          .block(Duration.ofMinutes(5));
      assertThat(archived).isEqualTo(total);
      assertThat(handled).hasSize(total);
      assertThat(handled.values()).allMatch(n -> n.get() == 1);
      assertThat(store.queues().metrics("shared").block(T).archived()).isEqualTo(total);
    } finally {
      Flux.fromIterable(engines).flatMap(Store::close).blockLast(T);
    }
  }
}
