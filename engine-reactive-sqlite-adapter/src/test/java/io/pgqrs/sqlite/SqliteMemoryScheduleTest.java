package io.pgqrs.sqlite;

import io.pgqrs.contract.ScheduleContract;
import java.util.UUID;

/** The schedule contract on SQLite (in memory). */
class SqliteMemoryScheduleTest extends ScheduleContract {

  private final String name = "t" + UUID.randomUUID().toString().replace("-", "");

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=" + name;
  }

  /**
   * Stores sharing a memory database share SQLite's cache, whose table locks fail at once instead
   * of waiting: one store, whose three firers race on its writer.
   */
  @Override
  protected int stores() {
    return 1;
  }
}
