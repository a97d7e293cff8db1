package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.internal.Names;
import io.pgqrs.internal.SqlStatements;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Uninstall drops only what install made: a user's table with a pgqrs name stays. */
@ExtendWith(PostgresDatabase.class)
class PostgresUninstallTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target db;

  PostgresUninstallTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  private static String freshSchema() {
    return "uninst_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
  }

  /** Runs statements in order on one admin connection; the last one's first column, if any. */
  private List<Object> sql(String... statements) {
    return Flux.usingWhen(db.adminConnectionFactory().create(),
            c -> Flux.fromArray(statements).concatMap(text -> Flux.from(c.createStatement(text).execute())
                .concatMap(r -> r.map((row, meta) -> row.get(0)))),
            Connection::close)
        .collectList()
        .block(T);
  }

  private boolean tableExists(String schema, String table) {
    return !sql("SELECT 1 FROM pg_tables WHERE schemaname = '" + schema + "' AND tablename = '" + table + "'")
        .isEmpty();
  }

  /** An install of an older release: the first two migrations, recorded, in a schema the user made. */
  private void installFirstMigrations(String schema, int upTo) {
    String quoted = Names.quoteIdentifier(schema);
    SqlStatements statements = PostgresStatements.forSchema(schema);
    sql("CREATE SCHEMA " + quoted, statements.get("create_migrations_table"));
    for (PostgresDriver.Migration m : PostgresDriver.MIGRATIONS.subList(0, upTo)) {
      sql(m.sqlTemplate().replace("${schema}", quoted));
      Flux.usingWhen(db.adminConnectionFactory().create(), c -> {
        Statement record = c.createStatement(statements.get("record_migration"))
            .bind(0, m.version()).bind(1, m.name()).bind(2, false);
        return Flux.from(record.execute()).concatMap(r -> r.getRowsUpdated());
      }, Connection::close).blockLast(T);
    }
  }

  private Store connect(String schema) {
    return Pgqrs.connect(PgqrsConfig.builder(db.dsnWithoutSchema()).schema(schema).build()).block(T);
  }

  @Test
  void uninstallAfterAPartialInstallKeepsTheUsersTableWithAPgqrsName() {
    String schema = freshSchema();
    installFirstMigrations(schema, 2);
    sql("CREATE TABLE \"" + schema + "\".pgqrs_runs (note text)", "INSERT INTO \"" + schema
        + "\".pgqrs_runs VALUES ('mine')");
    Store store = connect(schema);
    try {
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(tableExists(schema, "pgqrs_runs")).as("the user's table").isTrue();
    assertThat(sql("SELECT note FROM \"" + schema + "\".pgqrs_runs")).containsExactly("mine");
    assertThat(tableExists(schema, "pgqrs_queues")).as("made by install").isFalse();
    assertThat(tableExists(schema, "pgqrs_sweeps")).as("made by install").isFalse();
    assertThat(tableExists(schema, "pgqrs_migrations")).isFalse();
    sql("DROP SCHEMA \"" + schema + "\" CASCADE");
  }

  @Test
  void uninstallOfAnEmptySchemaKeepsTheUsersTableWithAPgqrsName() {
    String schema = freshSchema();
    sql("CREATE SCHEMA \"" + schema + "\"", "CREATE TABLE \"" + schema + "\".pgqrs_runs (note text)");
    Store store = connect(schema);
    try {
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(tableExists(schema, "pgqrs_runs")).isTrue();
    sql("DROP SCHEMA \"" + schema + "\" CASCADE");
  }

  @Test
  void uninstallOfAFullInstallStillDropsEverything() {
    String schema = freshSchema();
    Store store = connect(schema);
    try {
      store.admin().install().block(T);
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(sql("SELECT 1 FROM pg_namespace WHERE nspname = '" + schema + "'")).as("install made the schema")
        .isEmpty();
  }
}
