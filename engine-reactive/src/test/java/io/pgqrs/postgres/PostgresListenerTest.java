package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Enqueues wake subscribed streams through LISTEN/NOTIFY, also after the listener's backend is killed. */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresListenerTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresListenerTest(PostgresDatabase.Target db) {
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

  private Flux<String> wakeups(String queue) {
    return ((Engine) store).driver().wakeups(queue);
  }

  private long listenerBackends() {
    return Flux.usingWhen(db.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement("SELECT count(*) FROM pg_stat_activity "
                + "WHERE application_name = 'pgqrs-listener'").execute()).flatMap(r -> r.map((row, m) -> row.get(0,
                Long.class))),
            Connection::close)
        .blockFirst(T);
  }

  @Test
  void enqueueWakesOnlyItsQueue() {
    store.queues().create("woken").block(T);
    store.queues().create("quiet").block(T);
    store.queues().create("sentinel").block(T);
    StepVerifier.create(Flux.merge(wakeups("woken"), wakeups("quiet"), wakeups("sentinel")))
        .expectNextCount(3) // each LISTEN wakes its queue once: the gap before it is covered
        .then(() -> store.producer("woken").build().enqueue(Map.of("n", 1)).block(T))
        .expectNext("woken")
        .then(() -> store.producer("woken").build()
            .enqueuePayloads(List.of(Map.of("n", 2), Map.of("n", 3), Map.of("n", 4))).block(T))
        // Notifications arrive in commit order on the one LISTEN connection: the sentinel's,
        // committed after the batch, comes right after the batch's only notification.
        .then(() -> store.producer("sentinel").build().enqueue(Map.of("n", 5)).block(T))
        .as("one notification per statement, not per row, and none for the quiet queue")
        .expectNext("woken", "sentinel")
        .thenCancel()
        .verify(T);
  }

  @Test
  void listenerReconnectsAfterItsBackendIsTerminated() {
    store.queues().create("survivor").block(T);
    StepVerifier.create(wakeups("survivor"))
        .as("woken by the first LISTEN")
        .expectNext("survivor")
        .then(() -> {
          Flux.usingWhen(db.adminConnectionFactory().create(),
              c -> Flux.from(c.createStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  + "WHERE application_name = 'pgqrs-listener'").execute()).flatMap(r -> r.getRowsUpdated()),
              Connection::close).blockLast(T);
        })
        .as("woken once more after re-LISTEN")
        .expectNext("survivor")
        .then(() -> store.producer("survivor").build().enqueue(Map.of("n", 1)).block(T))
        .as("woken by the enqueue on the new connection")
        .expectNext("survivor")
        .thenCancel()
        .verify(T);
    assertThat(listenerBackends()).isEqualTo(1);
  }
}
