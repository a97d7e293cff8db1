package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.LeaseContract;

/** The lease contract on SQLite (in memory). */
class SqliteMemoryLeaseTest extends LeaseContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
