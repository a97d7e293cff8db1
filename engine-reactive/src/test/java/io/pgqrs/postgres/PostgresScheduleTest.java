package io.pgqrs.postgres;

import io.pgqrs.contract.ScheduleContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The schedule contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresScheduleTest extends ScheduleContract {

  private final PostgresDatabase.Target database;

  PostgresScheduleTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }
}
