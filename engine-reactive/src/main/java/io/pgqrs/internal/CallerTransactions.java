package io.pgqrs.internal;

import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.spi.StoreDriver;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;

/**
 * The rules of work done in the caller's own transaction (transactional enqueue and trigger),
 * checked once for producers and workflows before anything reaches the store.
 */
final class CallerTransactions {

  private CallerTransactions() {}

  /**
   * The connection a bound view is made for: refused at once when null, since nothing could ever
   * run on it.
   *
   * @throws InvalidArgumentException naming {@code connection} when it is null
   */
  static Connection require(@Nullable Connection connection) {
    if (connection == null) {
      throw new InvalidArgumentException("connection", "connection must be the caller's R2DBC connection, not null");
    }
    return connection;
  }

  /**
   * Why work cannot run in the caller's transaction now, or null when it can: the backend must
   * support it, and the connection must be in a transaction the caller began (in autocommit mode
   * each statement would commit on its own, and the point of binding would be lost). Checked when
   * the operation is subscribed, so a view can be made before the caller's transaction begins.
   *
   * @param driver the store
   * @param connection the caller's connection
   * @param operation what is refused, for the message
   * @return the refusal, or null
   */
  static @Nullable PgqrsException refusal(StoreDriver driver, Connection connection, String operation) {
    if (!driver.capabilities().transactionalEnqueue()) {
      return new ConfigurationException("transactionalEnqueue", operation + " in the caller's transaction needs a"
          + " backend that supports it (PostgreSQL); this is " + driver.capabilities().backend());
    }
    if (connection.isAutoCommit()) {
      return new InvalidArgumentException("connection", operation + " in the caller's transaction needs a connection"
          + " in a transaction (begun with beginTransaction() or a TransactionalOperator); this one is in autocommit"
          + " mode");
    }
    return null;
  }
}
