package io.pgqrs.sqlite;

import io.pgqrs.contract.EventsContract;
import java.nio.file.Path;

/** The events contract on SQLite (a file); the reader in another engine shares the file and polls. */
class SqliteFileEventsTest extends EventsContract {

  private final Path file = SqliteStores.newFile();

  @Override
  protected String dsn() {
    return "sqlite:" + file;
  }
}
