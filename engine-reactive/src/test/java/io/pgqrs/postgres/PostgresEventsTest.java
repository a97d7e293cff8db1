package io.pgqrs.postgres;

import io.pgqrs.contract.EventsContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The events contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresEventsTest extends EventsContract {

  private final PostgresDatabase.Target database;

  PostgresEventsTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }
}
