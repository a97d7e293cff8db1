package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowReplayContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The replay contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresWorkflowReplayTest extends WorkflowReplayContract {

  private final PostgresDatabase.Target database;

  PostgresWorkflowReplayTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
