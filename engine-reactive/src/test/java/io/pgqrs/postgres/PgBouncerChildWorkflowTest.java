package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ChildWorkflowContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The child workflow contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerChildWorkflowTest extends ChildWorkflowContract {

  private final PostgresDatabase.Target database;

  PgBouncerChildWorkflowTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(PgBouncer.dsn(database)).block(T);
  }
}
