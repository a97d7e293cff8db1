package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConcurrencyContract;

/** The concurrency contract on SQLite (a file). */
class SqliteFileConcurrencyTest extends ConcurrencyContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }

  /** SQLite has one writer: four claimers, as many as an embedded application would run. */
  @Override
  protected int claimers() {
    return 4;
  }
}
