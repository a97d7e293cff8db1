package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.QueueContract;

/** The queue contract on SQLite (in memory). */
class SqliteMemoryQueueTest extends QueueContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
