package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.testing.StateWait;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Install, verify and uninstall on PostgreSQL, connection failures and error translation. */
@ExtendWith(PostgresDatabase.class)
class PostgresAdminTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;

  PostgresAdminTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  private Store connect(String schema) {
    return Pgqrs.connect(PgqrsConfig.builder(db.dsnWithoutSchema()).schema(schema).build()).block(T);
  }

  private static String freshSchemaName(String prefix) {
    return prefix + "_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
  }

  private <T> List<T> query(String sql, Class<T> type) {
    return rows(sql, type).collectList().block(T);
  }

  /** The first column of each row, on a fresh admin connection; cold. */
  private <T> Flux<T> rows(String sql, Class<T> type) {
    ConnectionFactory factory = db.adminConnectionFactory();
    return Flux.usingWhen(factory.create(),
        c -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map((row, m) -> row.get(0, type))),
        Connection::close);
  }

  private boolean schemaExists(String schema) {
    return !query("SELECT nspname FROM pg_namespace WHERE nspname = '" + schema + "'", String.class).isEmpty();
  }

  @Test
  void installCreatesTheSchemaAndUninstallRemovesItAgain() {
    String schema = freshSchemaName("MixedCase_Adm");
    Store store = connect(schema);
    try {
      StepVerifier.create(store.admin().verify())
          .assertNext(r -> {
            assertThat(r.installedVersion()).isZero();
            assertThat(r.isValid()).isFalse();
            assertThat(r.missing()).contains("pgqrs_queues", "pgqrs_messages", "pgqrs_sweeps");
          })
          .expectComplete().verify(T);
      StepVerifier.create(store.admin().install()).expectComplete().verify(T);
      StepVerifier.create(store.admin().install()).as("idempotent").expectComplete().verify(T);
      StepVerifier.create(store.admin().verify())
          .assertNext(r -> {
            assertThat(r.isValid()).isTrue();
            assertThat(r.installedVersion()).isEqualTo(r.expectedVersion()).isPositive();
          })
          .expectComplete().verify(T);
      assertThat(schemaExists(schema)).isTrue();
      store.queues().create("works").block(T);
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
      assertThat(schemaExists(schema)).as("schema made by install is dropped").isFalse();
      StepVerifier.create(store.admin().uninstall()).as("idempotent").expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void uninstallKeepsASchemaThatExistedBeforeOrHoldsOtherObjects() {
    Store store = connect(db.schema());
    String created = freshSchemaName("adm_user_objects");
    Store other = connect(created);
    try {
      store.admin().install().block(T);
      store.admin().uninstall().block(T);
      assertThat(schemaExists(db.schema())).isTrue();
      assertThat(store.admin().verify().block(T).installedVersion()).isZero();

      other.admin().install().block(T);
      query("CREATE TABLE \"" + created + "\".user_table (id int)", Integer.class);
      other.admin().uninstall().block(T);
      assertThat(schemaExists(created)).isTrue();
      assertThat(query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          + "WHERE n.nspname = '" + created + "' AND c.relname LIKE 'pgqrs%'", Long.class)).containsExactly(0L);
    } finally {
      query("DROP SCHEMA IF EXISTS \"" + created + "\" CASCADE", Integer.class);
      other.close().block(T);
      store.close().block(T);
    }
  }

  @Test
  void concurrentInstallsSerializeAndBothSucceed() {
    String schema = freshSchemaName("adm_concurrent");
    List<Store> stores = List.of(connect(schema), connect(schema), connect(schema));
    try {
      StepVerifier.create(Flux.fromIterable(stores).flatMap(s -> s.admin().install()).then())
          .expectComplete().verify(T);
      SchemaReport report = stores.get(0).admin().verify().block(T);
      assertThat(report.isValid()).isTrue();
      assertThat(query("SELECT count(*) FROM \"" + schema + "\".pgqrs_migrations", Long.class))
          .containsExactly((long) report.expectedVersion());
      stores.get(0).admin().uninstall().block(T);
    } finally {
      stores.forEach(s -> s.close().block(T));
      query("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE", Integer.class);
    }
  }

  @Test
  void operationsOnAnUninstalledSchemaFailWithSchemaNotInstalled() {
    String schema = freshSchemaName("adm_missing");
    Store store = connect(schema);
    try {
      StepVerifier.create(store.queues().create("q"))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOf(SchemaNotInstalledException.class).hasMessageContaining("install()");
            assertThat(((SchemaNotInstalledException) e).schema()).isEqualTo(schema);
          })
          .verify(T);
      StepVerifier.create(store.messages().claim("q", 1)).expectError(SchemaNotInstalledException.class).verify(T);
      assertThat(schemaExists(schema)).isFalse();
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void unreachableDatabaseFailsWithATransientError() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://nobody@127.0.0.1:1/none")
        .connectTimeout(Duration.ofSeconds(2)).build();
    StepVerifier.create(Pgqrs.connect(config))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(StoreUnavailableException.class);
          assertThat(((StoreUnavailableException) e).isTransient()).isTrue();
          assertThat(((StoreUnavailableException) e).operation()).isEqualTo("connect");
        })
        .verify(T);
  }

  @Test
  void passwordNeverAppearsInConnectErrors() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://nobody:s3cret@127.0.0.1:1/none")
        .connectTimeout(Duration.ofSeconds(2)).build();
    StepVerifier.create(Pgqrs.connect(config))
        .expectErrorSatisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"))
        .verify(T);
  }

  @Test
  void unknownDsnParameterIsRefusedNamingTheDsn() {
    StepVerifier.create(Pgqrs.connect(db.dsnWithoutSchema() + "?colour=blue"))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(ConfigurationException.class).hasMessageContaining("colour");
          assertThat(((ConfigurationException) e).field()).isEqualTo("dsn");
        })
        .verify(T);
    StepVerifier.create(Pgqrs.connect("postgresql://localhost/db?schema=x;drop"))
        .expectErrorSatisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo("schema"))
        .verify(T);
    StepVerifier.create(Pgqrs.connect("mysql://localhost/db"))
        .expectErrorSatisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo("dsn"))
        .verify(T);
  }

  @Test
  void configurationFromTheEnvironmentConnects() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(Map.of(
        "PGQRS_DSN", db.dsnWithoutSchema() + "?pool_max_size=3",
        "PGQRS_SCHEMA", db.schema(),
        "PGQRS_LEASE_DURATION", "45s"));
    assertThat(config.poolMaxSize()).isEqualTo(3);
    Store store = Pgqrs.connect(config).block(T);
    try {
      assertThat(store.config().leaseDuration()).isEqualTo(Duration.ofSeconds(45));
      assertThat(store.capabilities().skipLocked()).isTrue();
      assertThat(store.capabilities().listenNotify()).isTrue();
      assertThat(store.admin().verify().block(T).schema()).isEqualTo(db.schema());
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void cancelledTransactionRollsBackAndFreesItsConnection() {
    String schema = freshSchemaName("adm_cancel");
    Store store = Pgqrs.connect(PgqrsConfig.builder(db.dsnWithoutSchema()).schema(schema).poolMaxSize(2).build())
        .block(T);
    ConnectionFactory factory = db.adminConnectionFactory();
    Connection blocker = Mono.from(factory.create()).block(T);
    try {
      store.admin().install().block(T);
      store.queues().create("locked").block(T);
      // Hold the queue row: an enqueue's foreign-key check waits on it.
      Mono.from(blocker.beginTransaction()).block(T);
      Flux.from(blocker.createStatement("SELECT id FROM \"" + schema + "\".pgqrs_queues FOR UPDATE").execute())
          .flatMap(r -> r.map((row, m) -> 1)).blockLast(T);
      var pending = store.producer("locked").build().enqueue(Map.of("n", 1)).subscribe();
      String waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgqrs' "
          + "AND wait_event_type = 'Lock'";
      awaitCount(waiting, 1);
      pending.dispose();
      Mono.from(blocker.rollbackTransaction()).block(T);
      awaitCount("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgqrs' AND state = 'active'", 0);
      assertThat(store.queues().metrics("locked").block(T).live()).as("cancelled enqueue rolled back").isZero();
      assertThat(query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgqrs' "
          + "AND state LIKE 'idle in transaction%'", Long.class)).containsExactly(0L);
      StepVerifier.create(Flux.range(0, 4).flatMap(i -> store.producer("locked").build().enqueue(Map.of("n", i)))
              .then(store.queues().metrics("locked")))
          .assertNext(m -> assertThat(m.live()).isEqualTo(4))
          .expectComplete().verify(T);
      store.admin().uninstall().block(T);
    } finally {
      Mono.from(blocker.close()).block(T);
      store.close().block(T);
      query("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE", Integer.class);
    }
  }

  /** Re-reads a count until it equals {@code expected}: synchronises on server state, bounded by T. */
  private void awaitCount(String countQuery, long expected) {
    StateWait.until(countQuery + " = " + expected, T, () -> rows(countQuery, Long.class).next(), n -> n == expected);
  }
}
