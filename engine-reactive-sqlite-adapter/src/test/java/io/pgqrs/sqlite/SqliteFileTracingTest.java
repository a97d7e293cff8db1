package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.TracingContract;

/** The tracing contract on SQLite (a file). */
class SqliteFileTracingTest extends TracingContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
