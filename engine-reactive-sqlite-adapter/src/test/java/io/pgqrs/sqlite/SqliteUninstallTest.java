package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Uninstall drops only the tables install made: a user's table with a pgqrs name stays. */
class SqliteUninstallTest {

  private static final Duration T = Duration.ofSeconds(30);

  private static List<String> query(Path file, String... statements) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
      for (String sql : statements) {
        if (s.execute(sql)) {
          try (ResultSet rs = s.getResultSet()) {
            while (rs.next()) {
              values.add(rs.getString(1));
            }
          }
        }
      }
    }
    return values;
  }

  private static List<String> tables(Path file) throws SQLException {
    return query(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  }

  @Test
  void uninstallOfAnEmptyDatabaseKeepsTheUsersTableWithAPgqrsName() throws SQLException {
    Path file = SqliteStores.newFile();
    query(file, "CREATE TABLE pgqrs_runs (note TEXT)", "INSERT INTO pgqrs_runs VALUES ('mine')");
    Store store = SqliteStores.file(file);
    try {
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(query(file, "SELECT note FROM pgqrs_runs")).containsExactly("mine");
  }

  @Test
  void uninstallAfterAPartialInstallKeepsTheUsersTableWithAPgqrsName() throws SQLException {
    Path file = SqliteStores.newFile();
    Store store = SqliteStores.file(file);
    try {
      // An older release's install: the migrations that predate pgqrs_runs.
      ((SqliteDriver) ((Engine) store).driver()).migrate(2).block(T);
      query(file, "CREATE TABLE pgqrs_runs (note TEXT)", "INSERT INTO pgqrs_runs VALUES ('mine')");
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(tables(file)).containsExactly("pgqrs_runs");
    assertThat(query(file, "SELECT note FROM pgqrs_runs")).containsExactly("mine");
  }

  @Test
  void uninstallOfAFullInstallDropsEveryTable() throws SQLException {
    Path file = SqliteStores.newFile();
    Store store = SqliteStores.file(file);
    try {
      store.admin().install().block(T);
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
    } finally {
      store.close().block(T);
    }
    assertThat(tables(file)).filteredOn(name -> !name.startsWith("sqlite_")).isEmpty();
  }
}
