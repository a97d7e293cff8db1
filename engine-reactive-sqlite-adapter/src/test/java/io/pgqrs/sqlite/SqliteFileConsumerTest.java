package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;

/** The consumer contract on SQLite (a file). */
class SqliteFileConsumerTest extends ConsumerContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
