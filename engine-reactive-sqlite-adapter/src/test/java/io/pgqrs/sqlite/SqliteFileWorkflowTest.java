package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;

/** The workflow contract on SQLite (a file). */
class SqliteFileWorkflowTest extends WorkflowContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
