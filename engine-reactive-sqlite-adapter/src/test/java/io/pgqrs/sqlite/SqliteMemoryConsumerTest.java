package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;

/** The consumer contract on SQLite (in memory). */
class SqliteMemoryConsumerTest extends ConsumerContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
