package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ChildWorkflowContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The child workflow contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresChildWorkflowTest extends ChildWorkflowContract {

  private final PostgresDatabase.Target database;

  PostgresChildWorkflowTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
