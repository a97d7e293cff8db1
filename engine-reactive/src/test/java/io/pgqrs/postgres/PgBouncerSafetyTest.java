package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The engine through PgBouncer in transaction mode, where consecutive transactions of one client
 * run on different server connections shared with other clients: settles never turn into each
 * other, and a PgBouncer set up without {@code ignore_startup_parameters} is a configuration error.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgBouncerSafetyTest {

  private static final Duration T = Duration.ofSeconds(60);
  private static final int MESSAGES = 400;

  private final PostgresDatabase.Target database;
  private final List<Store> stores = new ArrayList<>();

  PgBouncerSafetyTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @BeforeAll
  void install() {
    open().admin().install().block(T);
  }

  @AfterAll
  void close() {
    Flux.fromIterable(stores).flatMap(Store::close).then().block(T);
  }

  private Store open() {
    Store store = Pgqrs.connect(PgBouncer.dsn(database) + "&pool_max_size=8").block(T);
    stores.add(store);
    return store;
  }

  @Test
  void archivesAndDeletesOfTwoEnginesNeverTurnIntoEachOther() {
    Store first = open();
    Store second = open();
    String queue = "settles_" + Long.toHexString(System.nanoTime());
    first.queues().create(queue).block(T);
    List<Long> ids = first.producer(queue).build()
        .enqueuePayloads(IntStream.range(0, MESSAGES).mapToObj(i -> Map.of("n", i)).toList()).block(T);

    Set<Long> archived = ConcurrentHashMap.newKeySet();
    Set<Long> deleted = ConcurrentHashMap.newKeySet();
    Set<Long> refused = ConcurrentHashMap.newKeySet();
    // Two drains per engine, each settling up to eight messages at once: many more clients than
    // PgBouncer has server connections, so statements of both engines share server connections.
    StepVerifier.create(Flux.merge(
            drain(first, queue, 1, archived, deleted, refused), drain(first, queue, 2, archived, deleted, refused),
            drain(second, queue, 3, archived, deleted, refused), drain(second, queue, 4, archived, deleted, refused)))
        .expectComplete()
        .verify(T);

    assertThat(refused).as("every claimed message was settled by its one holder").isEmpty();
    assertThat(archived).doesNotContainAnyElementsOf(deleted);
    assertThat(archived.size() + deleted.size()).isEqualTo(MESSAGES);
    assertThat(archived).as("both operations ran").isNotEmpty();
    assertThat(deleted).as("both operations ran").isNotEmpty();

    Map<Long, String> states = states(queue);
    for (long id : ids) {
      if (archived.contains(id)) {
        assertThat(states.get(id)).as("archived message %s is in the archive", id).isEqualTo("archived");
      } else {
        assertThat(states).as("deleted message %s is gone", id).doesNotContainKey(id);
      }
    }
  }

  /** Claims and settles until the queue is empty, archiving or deleting each message at random. */
  private static Mono<Void> drain(Store store, String queue, long seed, Set<Long> archived, Set<Long> deleted,
      Set<Long> refused) {
    Random random = new Random(seed);
    return Mono.defer(() -> store.messages().claim(queue, 8))
        .flatMap(batch -> batch.isEmpty() ? Mono.just(false)
            : Flux.fromIterable(batch)
                .map(m -> Map.entry(m, random.nextBoolean()))
                .flatMap(choice -> settle(store, choice.getKey(), choice.getValue(), archived, deleted, refused))
                .then(Mono.just(true)))
        .repeat()
        .takeWhile(more -> more)
        .then();
  }

  private static Mono<Void> settle(Store store, Message m, boolean archive, Set<Long> archived, Set<Long> deleted,
      Set<Long> refused) {
    Mono<Boolean> settled = archive ? store.messages().archive(m.lease()) : store.messages().delete(m.lease());
    return settled.doOnNext(ok -> (ok ? (archive ? archived : deleted) : refused).add(m.id())).then();
  }

  /** The state of every row of the queue, read directly from PostgreSQL (the archive is a table of its own). */
  private Map<Long, String> states(String queue) {
    String schema = "\"" + database.schema() + "\"";
    String sql = "SELECT m.id, m.state FROM (SELECT id, state, queue_id FROM " + schema + ".pgqrs_messages "
        + "UNION ALL SELECT id, state, queue_id FROM " + schema + ".pgqrs_archive) m JOIN " + schema
        + ".pgqrs_queues q ON q.id = m.queue_id WHERE q.name = $1";
    return Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).bind(0, queue).execute())
                .flatMap(r -> r.map((row, meta) -> Map.entry(row.get(0, Long.class), row.get(1, String.class)))),
            Connection::close)
        .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new)
        .block(T);
  }

  @Test
  void aPoolerThatRefusesAStartupParameterIsAConfigurationErrorWithTheFix() {
    StepVerifier.create(Pgqrs.connect(PgBouncer.dsnRefusingStartupParameters(database)))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(ConfigurationException.class)
              .hasMessageContaining("ignore_startup_parameters = extra_float_digits");
          assertThat(((ConfigurationException) e).isTransient()).isFalse();
        })
        .verify(T);
  }
}
