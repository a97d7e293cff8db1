package io.pgqrs.sqlite;

import io.pgqrs.contract.MaintenanceContract;
import java.nio.file.Path;

/** The maintenance contract on SQLite (a file), three stores sharing the file in the concurrency test. */
class SqliteFileMaintenanceTest extends MaintenanceContract {

  private final Path file = SqliteStores.newFile();

  @Override
  protected String dsn() {
    return "sqlite:" + file;
  }
}
