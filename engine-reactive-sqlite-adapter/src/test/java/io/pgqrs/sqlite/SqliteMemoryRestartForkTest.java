package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.RestartForkContract;

/** The restart and fork contract on SQLite (in memory). */
class SqliteMemoryRestartForkTest extends RestartForkContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
