package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;

/** The workflow contract on SQLite (in memory). */
class SqliteMemoryWorkflowTest extends WorkflowContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
