package io.pgqrs.spring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;

/** The starter on a SQLite file of this class's own (and a second, empty file). */
class SqliteStarterTest extends StarterContract {

  private final Path directory;

  SqliteStarterTest() throws IOException {
    directory = Files.createTempDirectory("pgqrs-boot-");
  }

  @Override
  String dsn() {
    return "sqlite:" + directory.resolve("app.db");
  }

  @Override
  String uninstalledDsn() {
    return "sqlite:" + directory.resolve("empty.db");
  }

  @AfterAll
  void deleteFiles() throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    }
  }
}
