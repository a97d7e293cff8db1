package io.pgqrs.sqlite;

import io.pgqrs.contract.EventsContract;
import java.util.UUID;

/** The events contract on SQLite (in memory); the reader in another engine shares the named database. */
class SqliteMemoryEventsTest extends EventsContract {

  private final String name = "t" + UUID.randomUUID().toString().replace("-", "");

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=" + name;
  }
}
