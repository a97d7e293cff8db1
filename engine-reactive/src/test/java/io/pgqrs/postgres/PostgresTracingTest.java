package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.TracingContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The tracing contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresTracingTest extends TracingContract {

  private final PostgresDatabase.Target database;

  PostgresTracingTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
