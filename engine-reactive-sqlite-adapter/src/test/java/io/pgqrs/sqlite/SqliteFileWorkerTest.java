package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkerContract;

/** The worker contract on SQLite (a file). */
class SqliteFileWorkerTest extends WorkerContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
