package io.pgqrs.postgres;

import io.pgqrs.contract.EventsContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The events contract on PostgreSQL through PgBouncer in transaction mode (poll-only wake-ups). */
@ExtendWith(PostgresDatabase.class)
class PgBouncerEventsTest extends EventsContract {

  private final PostgresDatabase.Target database;

  PgBouncerEventsTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }
}
