package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Outcome;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.testing.PostgresDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The engine's wake-ups go out after commit, coalesced by one notifier per engine: its own come
 * back ignored (it woke its consumers in process), other engines are woken, many writes share few
 * NOTIFY statements, and a NOTIFY that fails never fails the write.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresNotifierTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;
  private Store here;
  private Store there;

  PostgresNotifierTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    here = Pgqrs.connect(db.dsn()).block(T);
    here.admin().install().block(T);
    there = Pgqrs.connect(db.dsn()).block(T);
  }

  @AfterAll
  void close() {
    there.close().block(T);
    here.close().block(T);
  }

  private static StoreDriver driver(Store store) {
    return ((Engine) store).driver();
  }

  private static String queueName(String prefix) {
    return prefix + "_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
  }

  @Test
  void anEngineIgnoresItsOwnWakeUpComingBackAndWakesTheOthers() {
    String queue = queueName("own");
    String sentinel = queueName("sentinel");
    here.queues().create(queue).block(T);
    here.queues().create(sentinel).block(T);
    StepVerifier.create(Flux.merge(driver(here).wakeups(queue), driver(here).wakeups(sentinel)))
        .expectNextCount(2) // each LISTEN wakes its queue once
        .then(() -> here.producer(queue).build().enqueue(Map.of("n", 1)).block(T))
        .as("woken in process by its own enqueue")
        .expectNext(queue)
        .then(() -> {
          PostgresProbe.notifierIdle(driver(here)).block(T);
          // Committed after this engine's NOTIFY: delivered after it on the one LISTEN connection.
          there.producer(sentinel).build().enqueue(Map.of("n", 2)).block(T);
        })
        .as("its own NOTIFY came back before the other engine's and was ignored")
        .expectNext(sentinel)
        .thenCancel()
        .verify(T);
  }

  @Test
  void anotherEngineIsWokenByAnEnqueueHere() {
    String queue = queueName("remote");
    here.queues().create(queue).block(T);
    StepVerifier.create(driver(there).wakeups(queue))
        .expectNext(queue) // the LISTEN
        .then(() -> here.producer(queue).build().enqueue(Map.of("n", 1)).block(T))
        .expectNext(queue)
        .thenCancel()
        .verify(T);
  }

  @Test
  void concurrentEnqueuesShareFarFewerNotifyStatementsThanWrites() {
    String queue = queueName("coalesced");
    here.queues().create(queue).block(T);
    int writes = 400;
    StepVerifier.create(driver(there).wakeups(queue))
        .expectNext(queue) // the LISTEN
        .then(() -> {
          long before = PostgresProbe.notifyStatements(driver(here));
          Flux.range(0, writes)
              .flatMap(i -> here.producer(queue).build().enqueue(Map.of("n", i)), 32)
              .blockLast(T);
          PostgresProbe.notifierIdle(driver(here)).block(T);
          long statements = PostgresProbe.notifyStatements(driver(here)) - before;
          assertThat(statements).as("NOTIFY statements for %d concurrent enqueues", writes)
              .isPositive()
              .isLessThan(writes / 2);
        })
        .as("the other engine is woken")
        .expectNext(queue)
        .thenCancel()
        .verify(T);
    assertThat(here.queues().metrics(queue).block(T).pending()).isEqualTo(writes);
  }

  @Test
  void aFailedNotifyDoesNotFailTheEnqueueAndGoesAgainWithTheNextBatch() {
    String queue = queueName("retried");
    here.queues().create(queue).block(T);
    StepVerifier.create(driver(there).wakeups(queue))
        .expectNext(queue) // the LISTEN
        .then(() -> {
          PostgresProbe.failNotifies(driver(here), 1,
              () -> new StoreUnavailableException("notify", "injected NOTIFY failure", null));
          long failed = PostgresProbe.failedNotifyStatements(driver(here));
          assertThat(here.producer(queue).build().enqueue(Map.of("n", 1)).block(T)).isPositive();
          PostgresProbe.notifierIdle(driver(here)).block(T);
          assertThat(PostgresProbe.failedNotifyStatements(driver(here)) - failed).as("failed NOTIFYs").isEqualTo(1);
        })
        .as("the failed wake-up went again and woke the other engine")
        .expectNext(queue)
        .thenCancel()
        .verify(T);
  }

  @Test
  void wakeUpsThatCannotBeSentLeaveOtherEnginesToTheirPolling() {
    String queue = queueName("polled");
    here.queues().create(queue).block(T);
    Store sender = Pgqrs.connect(db.dsn()).block(T);
    Store polling = Pgqrs.connect(PgqrsConfig.builder(db.dsn()).pollInterval(Duration.ofMillis(200)).build()).block(T);
    try {
      PostgresProbe.failNotifies(driver(sender), Integer.MAX_VALUE,
          () -> new StoreUnavailableException("notify", "injected NOTIFY failure", null));
      StepVerifier.create(polling.consumer(queue).concurrency(1).build()
              .handle(m -> Mono.empty())
              .filter(o -> o.kind() == Outcome.Kind.ARCHIVED)
              .take(3))
          .then(() -> {
            for (int i = 0; i < 3; i++) {
              assertThat(sender.producer(queue).build().enqueue(Map.of("n", i)).block(T)).isPositive();
            }
          })
          .as("found by polling although no wake-up was ever sent")
          .expectNextCount(3)
          .expectComplete()
          .verify(T);
      PostgresProbe.notifierIdle(driver(sender)).block(T);
      assertThat(PostgresProbe.failedNotifyStatements(driver(sender))).isPositive();
    } finally {
      polling.close().block(T);
      sender.close().block(T);
    }
  }

  @Test
  void finishedRunsTooManyForOnePayloadAllArrive() {
    int runs = 2_000; // about 40 kB of ids: several payloads under PostgreSQL's 8000-byte limit
    List<Long> ids = new ArrayList<>();
    for (long i = 0; i < runs; i++) {
      ids.add(1_000_000_000_000L + i);
    }
    StepVerifier.create(driver(there).runsFinished())
        .expectNext(-1L) // the LISTEN: every waiter looks
        .then(() -> PostgresProbe.announceRuns(driver(here), ids))
        .expectNextSequence(ids)
        .thenCancel()
        .verify(T);
  }

  @Test
  void runIdsAreSplitIntoPayloadsUnderTheLimitAndReadBack() {
    List<Long> ids = new ArrayList<>();
    for (long i = 0; i < 1_000; i++) {
      ids.add(Long.MAX_VALUE - i);
    }
    List<String> payloads = PostgresNotifier.runPayloads(ids);
    assertThat(payloads).hasSizeGreaterThan(1)
        .allSatisfy(p -> assertThat(p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThan(8000));
    List<Long> read = new ArrayList<>();
    payloads.forEach(p -> read.addAll(PostgresDriver.runIds(p)));
    assertThat(read).isEqualTo(ids);
    assertThat(PostgresDriver.runIds("")).as("the wake of a new LISTEN").containsExactly(-1L);
    assertThat(PostgresDriver.runIds("42")).as("one run, as a NOTIFY in a single statement sends it")
        .containsExactly(42L);
  }
}
