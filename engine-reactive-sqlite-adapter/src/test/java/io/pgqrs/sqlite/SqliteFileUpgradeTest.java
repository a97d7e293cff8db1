package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.spi.StoreDriver;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Upgrading a SQLite file installed at an older version; the file is also read beside the driver,
 * over a JDBC connection of its own, to compare its schema with a fresh install's.
 */
class SqliteFileUpgradeTest extends SqliteUpgradeContract {

  private static final Pattern CREATED_INDEX =
      Pattern.compile("CREATE\\s+(?:UNIQUE\\s+)?INDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(\\w+)", Pattern.CASE_INSENSITIVE);
  private static final Pattern DROPPED_INDEX =
      Pattern.compile("DROP\\s+INDEX\\s+(?:IF\\s+EXISTS\\s+)?(\\w+)", Pattern.CASE_INSENSITIVE);

  private final Path file = SqliteStores.newFile();

  @Override
  protected String dsn() {
    return "sqlite:" + file;
  }

  /** Every table, index and sequence row of pgqrs in a file, as type, name, table and SQL text. */
  private static List<String> schemaOf(Path path, String query) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + path); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      List<String> out = new ArrayList<>();
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
          row.append(i == 1 ? "" : " | ").append(rs.getString(i));
        }
        out.add(row.toString());
      }
      return out;
    }
  }

  private static List<String> objects(Path path) throws SQLException {
    return schemaOf(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
  }

  @Test
  void theUpgradedFileHasTheSchemaOfAFreshInstall() throws SQLException {
    Path fresh = SqliteStores.newFile();
    StoreDriver installed = DriverConformance.open("sqlite:" + fresh);
    try {
      installed.install().block(T);
    } finally {
      installed.close().block(T);
    }
    assertThat(objects(file)).isEqualTo(objects(fresh)).noneMatch(o -> o.contains("_old"));
  }

  @Test
  void everyTableWithAnIntegerIdNeverReusesOne() throws SQLException {
    assertThat(schemaOf(file, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' "
        + "ORDER BY name"))
        .containsExactly("pgqrs_messages", "pgqrs_queues", "pgqrs_run_events", "pgqrs_runs", "pgqrs_signals",
            "pgqrs_workers");
    // The copied rows set each table's sequence to its highest id (no event was copied: V012 is newer).
    assertThat(schemaOf(file, "SELECT name FROM sqlite_sequence ORDER BY name"))
        .containsExactly("pgqrs_messages", "pgqrs_queues", "pgqrs_runs", "pgqrs_signals", "pgqrs_workers");
  }

  @Test
  void everyIndexAMigrationCreatesExists() throws SQLException {
    TreeSet<String> expected = new TreeSet<>();
    for (String migration : SqliteDriver.MIGRATION_FILES) {
      // In script order: a migration may drop an index and create it again under the same name.
      for (String statement : SqliteDriver.statementsOf(
          SqliteDriver.readResource("/io/pgqrs/sqlite/migrations/" + migration))) {
        Matcher dropped = DROPPED_INDEX.matcher(statement);
        while (dropped.find()) {
          expected.remove(dropped.group(1));
        }
        Matcher created = CREATED_INDEX.matcher(statement);
        while (created.find()) {
          expected.add(created.group(1));
        }
      }
    }
    assertThat(expected).contains("pgqrs_messages_claim_idx", "pgqrs_signals_pending_idx");
    assertThat(new TreeSet<>(schemaOf(file,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")))
        .isEqualTo(expected);
  }

  @Test
  void noRowLostItsParent() throws SQLException {
    assertThat(schemaOf(file, "PRAGMA foreign_key_check")).isEmpty();
  }
}
