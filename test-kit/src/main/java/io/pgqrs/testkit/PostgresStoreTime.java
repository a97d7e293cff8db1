package io.pgqrs.testkit;

import io.pgqrs.StoreUnavailableException;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The store time of a PostgreSQL test schema, through one R2DBC connection of the kit's own, which
 * also drops the schema after the test ({@link #dropSchema()}).
 */
final class PostgresStoreTime implements TestClock.StoreTime, AutoCloseable {

  private static final Duration T = Duration.ofSeconds(30);

  private final Connection connection;
  private final String schema;

  PostgresStoreTime(String url, String schema) {
    this.schema = schema;
    String r2dbc = "r2dbc:" + (url.startsWith("postgres://") ? "postgresql://" + url.substring("postgres://".length()) : url);
    int q = r2dbc.indexOf('?');
    ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(q < 0 ? r2dbc : r2dbc.substring(0, q));
    this.connection = Mono.from(ConnectionFactories.get(options).create())
        .onErrorMap(e -> new StoreUnavailableException("test clock", "cannot connect to the test database", e))
        .block(T);
  }

  private String quoted() {
    return '"' + schema.replace("\"", "\"\"") + '"';
  }

  @Override
  public synchronized void shift(Duration by) {
    long micros = Math.multiplyExact(by.getSeconds(), 1_000_000L) + by.getNano() / 1_000L;
    List<String> updates = Flux.from(connection.createStatement(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1"
                + " AND table_name LIKE 'pgqrs\\_%' AND data_type = 'timestamp with time zone'")
            .bind("$1", schema).execute())
        .flatMap(r -> r.map((row, meta) -> "UPDATE " + quoted() + ".\"" + row.get(0, String.class) + "\" SET \""
            + row.get(1, String.class) + "\" = \"" + row.get(1, String.class) + "\" - " + micros
            + " * interval '1 microsecond' WHERE \"" + row.get(1, String.class) + "\" < '9000-01-01'"))
        .collectList()
        .block(T);
    Mono<Void> all = Flux.fromIterable(updates)
        .concatMap(sql -> Flux.from(connection.createStatement(sql).execute()).flatMap(r -> r.getRowsUpdated()))
        .then();
    // One transaction: the store sees either none or all of the move.
    Mono.from(connection.beginTransaction())
        .then(all)
        .then(Mono.from(connection.commitTransaction()))
        .onErrorResume(e -> Mono.from(connection.rollbackTransaction()).onErrorResume(x -> Mono.empty())
            .then(Mono.error(new StoreUnavailableException("test clock", "cannot move the store's time", e))))
        .block(T);
  }

  @Override
  public synchronized @Nullable Duration untilNextVisible(String queue) {
    Long micros = Flux.from(connection.createStatement(
            "SELECT (extract(epoch FROM min(m.visible_at) - clock_timestamp()) * 1000000)::bigint FROM "
                + quoted() + ".pgqrs_messages m JOIN " + quoted() + ".pgqrs_queues q ON q.id = m.queue_id"
                + " WHERE q.name = $1 AND m.state = 'live' AND m.visible_at < '9000-01-01'")
            .bind("$1", queue).execute())
        .flatMap(r -> r.map((row, meta) -> java.util.Optional.ofNullable(row.get(0, Long.class))))
        .next()
        .block(T)
        .orElse(null);
    return micros == null ? null : Duration.ofNanos(Math.multiplyExact(micros, 1_000L));
  }

  /** Drops the test schema with everything in it. Blocking. */
  synchronized void dropSchema() {
    Flux.from(connection.createStatement("DROP SCHEMA IF EXISTS " + quoted() + " CASCADE").execute())
        .flatMap(r -> r.getRowsUpdated()).then().block(T);
  }

  @Override
  public synchronized void close() {
    Mono.from(connection.close()).onErrorResume(e -> Mono.empty()).block(T);
  }
}
