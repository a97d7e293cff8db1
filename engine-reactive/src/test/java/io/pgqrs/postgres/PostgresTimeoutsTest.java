package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The engine's statement and lock timeouts: a session holding an ACCESS EXCLUSIVE lock on a pgqrs
 * table makes operations fail with a transient error instead of hanging, and the engine works
 * again once the lock is gone; directly and through PgBouncer in transaction mode, where the
 * timeouts travel with each transaction.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresTimeoutsTest {

  /** Far above the timeouts under test, far below forever. */
  private static final Duration T = Duration.ofSeconds(20);
  private static final AtomicInteger QUEUES = new AtomicInteger();

  private final PostgresDatabase.Target database;

  PostgresTimeoutsTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @BeforeAll
  void install() {
    Store store = Pgqrs.connect(database.dsn()).block(T);
    store.admin().install().block(T);
    store.close().block(T);
  }

  Stream<Arguments> connections() {
    return Stream.of(
        Arguments.of("direct, lock_timeout", database.dsn() + "&lock_timeout=300ms"),
        Arguments.of("direct, statement_timeout", database.dsn() + "&lock_timeout=0&statement_timeout=300ms"),
        Arguments.of("PgBouncer, lock_timeout", PgBouncer.dsn(database) + "&lock_timeout=300ms"),
        Arguments.of("PgBouncer, statement_timeout",
            PgBouncer.dsn(database) + "&lock_timeout=0&statement_timeout=300ms"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("connections")
  void anExclusiveLockHeldElsewhereFailsOperationsTransientlyUntilItIsReleased(String name, String dsn) {
    Store store = Pgqrs.connect(dsn).block(T);
    String queue = "locked_" + QUEUES.incrementAndGet();
    store.queues().create(queue).block(T);
    Connection holder = Mono.from(database.adminConnectionFactory().create()).block(T);
    try {
      Mono.from(holder.beginTransaction()).block(T);
      Flux.from(holder.createStatement("LOCK TABLE \"" + database.schema() + "\".pgqrs_messages IN ACCESS EXCLUSIVE"
              + " MODE").execute()).flatMap(r -> r.getRowsUpdated()).blockLast(T);

      StepVerifier.create(store.producer(queue).build().enqueue(Map.of("n", 1)))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOf(StoreUnavailableException.class);
            assertThat(((StoreUnavailableException) e).isTransient()).isTrue();
            assertThat(e).hasMessageContaining("enqueue");
          })
          .verify(T);

      Mono.from(holder.rollbackTransaction()).block(T);
      StepVerifier.create(store.producer(queue).build().enqueue(Map.of("n", 2)))
          .assertNext(id -> assertThat(id).isPositive())
          .expectComplete()
          .verify(T);
      assertThat(store.queues().metrics(queue).block(T).live()).isEqualTo(1);
    } finally {
      Mono.from(holder.close()).block(T);
      store.close().block(T);
    }
  }
}
