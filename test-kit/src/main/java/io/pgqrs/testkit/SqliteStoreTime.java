package io.pgqrs.testkit;

import io.pgqrs.StoreUnavailableException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The store time of a SQLite in-memory test database, through a second connection to the same
 * shared-cache database. The connection also keeps the database alive while the kit reopens its
 * store.
 */
final class SqliteStoreTime implements TestClock.StoreTime, AutoCloseable {

  /** Year 10000 in microseconds: above it is the "never" of a paused run, left alone. */
  static final long FAR = 253_402_300_800_000_000L;

  private static final String NOW_MICROS = "(CAST(round(unixepoch('subsec') * 1000) AS INTEGER) * 1000)";

  private final Connection connection;

  SqliteStoreTime(String memoryName) {
    try {
      this.connection = DriverManager.getConnection("jdbc:sqlite:file:" + memoryName + "?mode=memory&cache=shared");
    } catch (SQLException e) {
      throw new StoreUnavailableException("test clock", "cannot open the test database '" + memoryName + "'", e);
    }
  }

  @Override
  public synchronized void shift(Duration by) {
    long micros = Math.multiplyExact(by.getSeconds(), 1_000_000L) + by.getNano() / 1_000L;
    retrying("move the store's time", () -> {
      List<String> updates = new ArrayList<>();
      try (Statement s = connection.createStatement();
           ResultSet tables = s.executeQuery(
               "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'pgqrs\\_%' ESCAPE '\\'")) {
        List<String> names = new ArrayList<>();
        while (tables.next()) {
          names.add(tables.getString(1));
        }
        for (String table : names) {
          try (ResultSet columns = s.executeQuery("PRAGMA table_info(\"" + table + "\")")) {
            while (columns.next()) {
              String column = columns.getString("name").toLowerCase(Locale.ROOT);
              String type = columns.getString("type").toUpperCase(Locale.ROOT);
              if (type.startsWith("INT") && (column.endsWith("_at") || column.endsWith("_until"))) {
                updates.add("UPDATE \"" + table + "\" SET \"" + column + "\" = \"" + column + "\" - " + micros
                    + " WHERE \"" + column + "\" IS NOT NULL AND \"" + column + "\" < " + FAR);
              }
            }
          }
        }
      }
      connection.setAutoCommit(false);
      try (Statement s = connection.createStatement()) {
        for (String update : updates) {
          s.executeUpdate(update);
        }
        connection.commit();
      } catch (SQLException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
      return null;
    });
  }

  @Override
  public synchronized @Nullable Duration untilNextVisible(String queue) {
    return retrying("read the next visible time", () -> {
      try (PreparedStatement s = connection.prepareStatement(
          "SELECT min(m.visible_at) - " + NOW_MICROS + " FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id"
              + " WHERE q.name = ? AND m.state = 'live' AND m.visible_at < " + FAR)) {
        s.setString(1, queue);
        try (ResultSet r = s.executeQuery()) {
          if (!r.next()) {
            return null;
          }
          long micros = r.getLong(1);
          return r.wasNull() ? null : Duration.ofNanos(Math.multiplyExact(micros, 1_000L));
        }
      }
    });
  }

  private interface Work<T> {
    @Nullable T run() throws SQLException;
  }

  // Shared-cache table locks are not covered by the busy timeout: a statement that meets the
  // engine's writer mid-transaction fails at once, so it is retried for a while.
  private <T> @Nullable T retrying(String operation, Work<T> work) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        return work.run();
      } catch (SQLException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        boolean locked = m.contains("locked") || m.contains("busy");
        if (!locked || System.nanoTime() > deadline) {
          throw new StoreUnavailableException("test clock", "cannot " + operation + ": " + e.getMessage(), e);
        }
        LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
      }
    }
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing the last connection drops the memory database; nothing is left to clean up.
    }
  }
}
