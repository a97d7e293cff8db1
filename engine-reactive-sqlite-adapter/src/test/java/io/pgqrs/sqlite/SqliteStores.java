package io.pgqrs.sqlite;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/** Fresh SQLite stores for tests: a new file in a new temporary folder, or a new named memory database. */
final class SqliteStores {

  private SqliteStores() {}

  static Path newFile() {
    try {
      return Files.createTempDirectory("pgqrs-sqlite-test").resolve("pgqrs.db");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Store file(Path file) {
    return Pgqrs.connect("sqlite:" + file).block(Duration.ofSeconds(30));
  }

  static Store newFileStore() {
    return file(newFile());
  }

  static Store newMemoryStore() {
    return Pgqrs.connect("sqlite::memory:?name=t" + UUID.randomUUID().toString().replace("-", ""))
        .block(Duration.ofSeconds(30));
  }
}
