package io.pgqrs.testkit;

import io.pgqrs.StoreUnavailableException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Keeps a test's SQLite in-memory database alive: SQLite drops a shared-cache memory database when
 * its last connection closes, which {@link PgqrsTestKit#reopen()} would otherwise do between
 * closing the store and opening the new one. Closed after the test, which drops the database.
 */
final class SqliteMemoryDatabase implements AutoCloseable {

  private final Connection connection;

  SqliteMemoryDatabase(String memoryName) {
    try {
      this.connection = DriverManager.getConnection("jdbc:sqlite:file:" + memoryName + "?mode=memory&cache=shared");
    } catch (SQLException e) {
      throw new StoreUnavailableException("test kit", "cannot open the test database '" + memoryName + "'", e);
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing the last connection drops the memory database; nothing is left to clean up.
    }
  }
}
