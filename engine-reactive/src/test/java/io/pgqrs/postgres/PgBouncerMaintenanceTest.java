package io.pgqrs.postgres;

import io.pgqrs.contract.MaintenanceContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The maintenance contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerMaintenanceTest extends MaintenanceContract {

  private final PostgresDatabase.Target database;

  PgBouncerMaintenanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }
}
