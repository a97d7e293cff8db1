package io.pgqrs.postgres;

import io.pgqrs.conformance.DriverConformance;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * A caller's R2DBC transaction for the conformance suite's transactional cases, on a plain
 * connection of the test database (as an application would hold one next to the store), begun
 * with {@code beginTransaction()}. Blocking; for test threads only.
 */
final class PostgresCallerTransaction implements DriverConformance.CallerTransaction {

  private static final Duration T = Duration.ofSeconds(30);

  private final Connection connection;
  private boolean finished;

  private PostgresCallerTransaction(Connection connection) {
    this.connection = connection;
  }

  /**
   * Opens a connection and begins a transaction on it.
   *
   * @param factory where the connection comes from (the test's admin connection factory)
   * @return the begun transaction
   */
  static PostgresCallerTransaction begin(ConnectionFactory factory) {
    Connection c = Mono.from(factory.create()).block(T);
    try {
      Mono.from(c.beginTransaction()).block(T);
    } catch (RuntimeException e) {
      Mono.from(c.close()).onErrorResume(x -> Mono.empty()).block(T);
      throw e;
    }
    return new PostgresCallerTransaction(c);
  }

  @Override
  public Object connection() {
    return connection;
  }

  @Override
  public void commit() {
    finish(Mono.from(connection.commitTransaction()));
  }

  @Override
  public void rollback() {
    finish(Mono.from(connection.rollbackTransaction()));
  }

  @Override
  public void close() {
    if (!finished) {
      // A failed test: end the transaction so its locks do not outlive it.
      finish(Mono.from(connection.rollbackTransaction()).onErrorResume(e -> Mono.empty()));
    }
  }

  private void finish(Mono<Void> end) {
    finished = true;
    end.then(Mono.defer(() -> Mono.from(connection.close())))
        .onErrorResume(e -> Mono.from(connection.close()).then(Mono.error(e)))
        .block(T);
  }
}
