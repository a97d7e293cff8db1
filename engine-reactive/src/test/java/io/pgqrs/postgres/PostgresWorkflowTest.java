package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The workflow contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresWorkflowTest extends WorkflowContract {

  private final PostgresDatabase.Target database;

  PostgresWorkflowTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
