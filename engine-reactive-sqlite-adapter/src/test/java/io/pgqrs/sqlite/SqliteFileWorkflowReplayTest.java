package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowReplayContract;

/** The replay contract on SQLite (a file). */
class SqliteFileWorkflowReplayTest extends WorkflowReplayContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
  }
}
