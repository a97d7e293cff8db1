package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.QueueContract;

/** The queue contract on SQLite (a file). */
class SqliteFileQueueTest extends QueueContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
