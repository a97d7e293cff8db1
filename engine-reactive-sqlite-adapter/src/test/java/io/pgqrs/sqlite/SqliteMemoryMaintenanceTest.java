package io.pgqrs.sqlite;

import io.pgqrs.contract.MaintenanceContract;
import java.util.UUID;

/** The maintenance contract on SQLite (in memory). */
class SqliteMemoryMaintenanceTest extends MaintenanceContract {

  private final String name = "t" + UUID.randomUUID().toString().replace("-", "");

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=" + name;
  }

  /**
   * Stores sharing a memory database share SQLite's cache, whose table locks fail at once
   * (SQLITE_LOCKED_SHAREDCACHE) instead of waiting like a file's busy timeout: one store, whose
   * sweeps queue up on its writer.
   */
  @Override
  protected int stores() {
    return 1;
  }
}
