package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.TracingContract;

/** The tracing contract on SQLite (in memory). */
class SqliteMemoryTracingTest extends TracingContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
