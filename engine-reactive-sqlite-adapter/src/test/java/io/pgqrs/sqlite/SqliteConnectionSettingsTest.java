package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The settings a SQLite connection is opened with: foreign keys on, WAL for a file, and the busy
 * timeout and synchronous mode of the DSN.
 */
class SqliteConnectionSettingsTest {

  private static String pragma(Connection c, String name) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
      assertThat(rs.next()).as(name).isTrue();
      return rs.getString(1);
    }
  }

  private static SqliteDriverProvider.Target file(Path path, String synchronous, int busyTimeoutMillis) {
    return new SqliteDriverProvider.Target("jdbc:sqlite:" + path, path.toString(), false, synchronous,
        busyTimeoutMillis);
  }

  @Test
  void aFileIsOpenedInWalModeWithForeignKeysAndTheDsnSettings() throws SQLException {
    try (Connection c = SqliteDriverProvider.connect(file(SqliteStores.newFile(), "FULL", 1234))) {
      assertThat(pragma(c, "journal_mode")).isEqualToIgnoringCase("wal");
      assertThat(pragma(c, "foreign_keys")).isEqualTo("1");
      assertThat(pragma(c, "busy_timeout")).isEqualTo("1234");
      assertThat(pragma(c, "synchronous")).isEqualTo("2");
    }
  }

  @Test
  void everySynchronousModeOfTheDsnIsApplied() throws SQLException {
    String[] modes = {"OFF", "NORMAL", "FULL", "EXTRA"};
    for (int level = 0; level < modes.length; level++) {
      try (Connection c = SqliteDriverProvider.connect(file(SqliteStores.newFile(), modes[level], 5000))) {
        assertThat(pragma(c, "synchronous")).as(modes[level]).isEqualTo(Integer.toString(level));
      }
    }
  }

  @Test
  void anInMemoryDatabaseKeepsItsJournalAndEnforcesForeignKeys() throws SQLException {
    SqliteDriverProvider.Target memory = new SqliteDriverProvider.Target(
        "jdbc:sqlite:file:settings" + System.nanoTime() + "?mode=memory&cache=shared", "memory", true, "NORMAL", 5000);
    try (Connection c = SqliteDriverProvider.connect(memory)) {
      assertThat(pragma(c, "journal_mode")).isEqualToIgnoringCase("memory");
      assertThat(pragma(c, "foreign_keys")).isEqualTo("1");
      assertThat(pragma(c, "synchronous")).isEqualTo("1");
    }
  }
}
