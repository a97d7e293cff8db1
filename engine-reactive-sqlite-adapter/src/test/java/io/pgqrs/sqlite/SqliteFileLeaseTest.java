package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.LeaseContract;

/** The lease contract on SQLite (a file). */
class SqliteFileLeaseTest extends LeaseContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
