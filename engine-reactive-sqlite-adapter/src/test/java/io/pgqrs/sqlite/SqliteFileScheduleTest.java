package io.pgqrs.sqlite;

import io.pgqrs.contract.ScheduleContract;
import java.nio.file.Path;

/** The schedule contract on SQLite (a file), three stores sharing the file in the racing tests. */
class SqliteFileScheduleTest extends ScheduleContract {

  private final Path file = SqliteStores.newFile();

  @Override
  protected String dsn() {
    return "sqlite:" + file;
  }
}
