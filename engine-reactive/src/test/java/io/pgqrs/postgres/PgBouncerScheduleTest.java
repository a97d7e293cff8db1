package io.pgqrs.postgres;

import io.pgqrs.contract.ScheduleContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The schedule contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerScheduleTest extends ScheduleContract {

  private final PostgresDatabase.Target database;

  PgBouncerScheduleTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }
}
