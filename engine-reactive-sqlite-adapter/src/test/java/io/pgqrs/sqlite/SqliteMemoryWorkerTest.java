package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkerContract;

/** The worker contract on SQLite (in memory). */
class SqliteMemoryWorkerTest extends WorkerContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
