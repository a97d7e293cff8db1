package io.pgqrs.sqlite;

import io.pgqrs.contract.StoreClockContract;
import java.util.UUID;

/** The store-clock contract on SQLite (in memory). */
class SqliteMemoryStoreClockTest extends StoreClockContract {

  private final String name = "t" + UUID.randomUUID().toString().replace("-", "");

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=" + name;
  }
}
