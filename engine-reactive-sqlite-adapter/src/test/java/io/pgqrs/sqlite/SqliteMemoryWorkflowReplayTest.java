package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowReplayContract;

/** The replay contract on SQLite (in memory). */
class SqliteMemoryWorkflowReplayTest extends WorkflowReplayContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newMemoryStore();
  }
}
