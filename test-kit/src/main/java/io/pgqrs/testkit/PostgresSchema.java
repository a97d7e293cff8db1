package io.pgqrs.testkit;

import io.pgqrs.StoreUnavailableException;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A PostgreSQL test schema, dropped after the test ({@link #dropSchema()}) through one R2DBC
 * connection of the kit's own, opened before the test's store so an unreachable database fails
 * the test at once.
 */
final class PostgresSchema implements AutoCloseable {

  private static final Duration T = Duration.ofSeconds(30);

  private final Connection connection;
  private final String schema;

  PostgresSchema(String url, String schema) {
    this.schema = schema;
    String r2dbc = "r2dbc:" + (url.startsWith("postgres://") ? "postgresql://" + url.substring("postgres://".length()) : url);
    int q = r2dbc.indexOf('?');
    ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(q < 0 ? r2dbc : r2dbc.substring(0, q));
    this.connection = Mono.from(ConnectionFactories.get(options).create())
        .onErrorMap(e -> new StoreUnavailableException("test kit", "cannot connect to the test database", e))
        .block(T);
  }

  private String quoted() {
    return '"' + schema.replace("\"", "\"\"") + '"';
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
