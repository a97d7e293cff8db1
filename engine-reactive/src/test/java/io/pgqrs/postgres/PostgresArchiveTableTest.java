package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Archived messages in a table of their own on PostgreSQL (migration 16): an install of the
 * migrations before it upgrades with its archived rows moved over, and the hot table holds no
 * archived row afterwards, whatever archived it.
 */
@ExtendWith(PostgresDatabase.class)
class PostgresArchiveTableTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final int ARCHIVE_MIGRATION = 16;

  private final PostgresDatabase.Target db;

  PostgresArchiveTableTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  private <T> T admin(java.util.function.Function<Connection, Mono<T>> work) {
    return Mono.usingWhen(Mono.from(db.adminConnectionFactory().create()), work, Connection::close).block(T);
  }

  private long count(String sql) {
    return admin(c -> Mono.from(c.createStatement(sql).execute())
        .flatMap(r -> Mono.from(r.map((row, meta) -> row.get(0, Long.class)))));
  }

  private static Mono<Long> run(Connection c, String sql) {
    return Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.getRowsUpdated()).reduce(0L, Long::sum);
  }

  @Test
  void anInstallBeforeTheArchiveTableUpgradesWithItsArchivedRowsMovedOver() {
    String quoted = "\"" + db.schema() + "\"";
    UUID token = UUID.randomUUID();
    // The schema as an install of the migrations before 16 left it, with rows of every state.
    admin(c -> run(c, PostgresStatements.forSchema(db.schema()).get("create_migrations_table"))
        .thenMany(Flux.fromIterable(PostgresDriver.MIGRATIONS)
            .filter(m -> m.version() < ARCHIVE_MIGRATION)
            .concatMap(m -> run(c, m.sqlTemplate().replace("${schema}", quoted))
                .then(run(c, "INSERT INTO " + quoted + ".pgqrs_migrations (version, name) VALUES ("
                    + m.version() + ", '" + m.name() + "')"))))
        .then(run(c, "INSERT INTO " + quoted + ".pgqrs_queues (name, max_attempts, created_at) "
            + "VALUES ('old', 5, now())"))
        .then(run(c, "INSERT INTO " + quoted + ".pgqrs_messages (queue_id, payload, state, attempts, enqueued_at, "
            + "visible_at, due_at, lease_token, archived_at, dedup_key, group_key, headers) "
            + "SELECT q.id, jsonb_build_object('n', g), 'archived', 1, now() - interval '1 hour', now(), now(), '"
            + token + "', now() - g * interval '1 minute', 'k' || g, 'tenant', '{\"trace\": \"t\"}' "
            + "FROM " + quoted + ".pgqrs_queues q, generate_series(1, 3) AS g"))
        .then(run(c, "INSERT INTO " + quoted + ".pgqrs_messages (queue_id, payload, enqueued_at, visible_at, due_at) "
            + "SELECT q.id, '{\"n\": \"live\"}', now(), now(), now() FROM " + quoted + ".pgqrs_queues q"))
        .then(run(c, "INSERT INTO " + quoted + ".pgqrs_messages (queue_id, payload, state, enqueued_at, visible_at, "
            + "due_at, dead_at, last_error) SELECT q.id, '{\"n\": \"dead\"}', 'dead', now(), now(), now(), now(), "
            + "'boom' FROM " + quoted + ".pgqrs_queues q")));

    Store store = Pgqrs.connect(db.dsn()).block(T);
    try {
      store.admin().install().block(T);
      var report = store.admin().verify().block(T);
      assertThat(report.isValid()).as("%s", report).isTrue();
      assertThat(report.installedVersion()).isEqualTo(report.expectedVersion()).isGreaterThanOrEqualTo(16);

      assertThat(count("SELECT count(*) FROM " + quoted + ".pgqrs_messages WHERE state = 'archived'"))
          .as("archived rows left in the hot table").isZero();
      List<Message> archived = store.messages().list("old", MessageState.ARCHIVED, 0, 10).collectList().block(T);
      assertThat(archived).hasSize(3).allSatisfy(m -> {
        assertThat(m.state()).isEqualTo(MessageState.ARCHIVED);
        assertThat(m.archivedAt()).isNotNull();
        assertThat(m.leaseToken()).as("the token that archived it, kept").isEqualTo(token);
        assertThat(m.groupKey()).isEqualTo("tenant");
        assertThat(m.headers()).isEqualTo(Map.of("trace", "t"));
      });
      assertThat(archived).extracting(m -> m.payload().path("n").asInt()).containsExactly(1, 2, 3);
      assertThat(store.messages().get(archived.get(0).id()).block(T)).isEqualTo(archived.get(0));

      QueueMetrics metrics = store.queues().metrics("old").block(T);
      assertThat(metrics.archived()).isEqualTo(3);
      assertThat(metrics.pending()).isEqualTo(1);
      assertThat(metrics.dead()).isEqualTo(1);
      assertThat(store.messages().list("old", MessageState.DEAD, 0, 10).collectList().block(T)).hasSize(1);

      // The live message is claimed and archived after the upgrade like any other.
      List<Message> claimed = store.messages().claim("old", 10).block(T);
      assertThat(claimed).hasSize(1);
      assertThat(store.messages().archive(claimed.get(0).lease()).block(T)).isTrue();
      assertThat(store.queues().metrics("old").block(T).archived()).isEqualTo(4);
      assertThat(count("SELECT count(*) FROM " + quoted + ".pgqrs_archive")).isEqualTo(4);
      assertThat(count("SELECT count(*) FROM " + quoted + ".pgqrs_messages")).as("only the dead letter").isEqualTo(1);

      // Deleting the queue takes its archive with it.
      store.queues().delete("old", true).block(T);
      assertThat(count("SELECT count(*) FROM " + quoted + ".pgqrs_archive")).isZero();
    } finally {
      store.admin().uninstall().block(T);
      store.close().block(T);
    }
    assertThat(count("SELECT count(*) FROM pg_tables WHERE schemaname = '" + db.schema() + "'"))
        .as("uninstall drops the archive table too").isZero();
  }
}
