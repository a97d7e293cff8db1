package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ValidationContract;

/** The validation contract on SQLite (a file). */
class SqliteFileValidationTest extends ValidationContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
