package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every migration exists for every backend: the same numbers and names, in the same order. */
class MigrationsInStepTest {

  private static List<String> index(String path) throws IOException {
    try (InputStream in = MigrationsInStepTest.class.getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
          .map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
  }

  @Test
  void sqliteAndPostgresShipTheSameMigrations() throws IOException {
    List<String> postgres = index("/io/pgqrs/postgres/migrations/index");
    List<String> sqlite = index("/io/pgqrs/sqlite/migrations/index");
    assertThat(sqlite).isEqualTo(postgres);
    for (int i = 0; i < sqlite.size(); i++) {
      assertThat(sqlite.get(i)).startsWith(String.format("V%03d__", i + 1));
      assertThat(MigrationsInStepTest.class.getResource("/io/pgqrs/sqlite/migrations/" + sqlite.get(i))).isNotNull();
      assertThat(MigrationsInStepTest.class.getResource("/io/pgqrs/postgres/migrations/" + sqlite.get(i)))
          .isNotNull();
    }
  }

  @Test
  void sqliteMigrationSplitsIntoStatements() {
    List<String> statements = SqliteDriver.statementsOf(SqliteDriver.readResource(
        "/io/pgqrs/sqlite/migrations/V001__queues_messages_workers.sql"));
    assertThat(statements).hasSize(9).allSatisfy(s -> assertThat(s).startsWith("CREATE"));
  }
}
