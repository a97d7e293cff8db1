package io.pgqrs.sqlite;

import io.pgqrs.contract.StoreClockContract;
import java.nio.file.Path;

/** The store-clock contract on SQLite (a file). */
class SqliteFileStoreClockTest extends StoreClockContract {

  private final Path file = SqliteStores.newFile();

  @Override
  protected String dsn() {
    return "sqlite:" + file;
  }
}
