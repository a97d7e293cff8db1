package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ValidationContract;

/** The validation contract on SQLite (in memory). */
class SqliteMemoryValidationTest extends ValidationContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
