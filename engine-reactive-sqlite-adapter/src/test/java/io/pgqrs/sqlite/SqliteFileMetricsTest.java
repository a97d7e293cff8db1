package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.MetricsContract;

/** The metrics contract on SQLite (a file). */
class SqliteFileMetricsTest extends MetricsContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
