package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.MetricsContract;

/** The metrics contract on SQLite (in memory). */
class SqliteMemoryMetricsTest extends MetricsContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
