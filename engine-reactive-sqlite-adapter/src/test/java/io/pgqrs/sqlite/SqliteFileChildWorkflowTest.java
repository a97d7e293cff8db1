package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ChildWorkflowContract;

/** The child workflow contract on SQLite (a file). */
class SqliteFileChildWorkflowTest extends ChildWorkflowContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
