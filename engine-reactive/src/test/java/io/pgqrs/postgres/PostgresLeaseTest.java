package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.LeaseContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The lease contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresLeaseTest extends LeaseContract {

  private final PostgresDatabase.Target database;

  PostgresLeaseTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
