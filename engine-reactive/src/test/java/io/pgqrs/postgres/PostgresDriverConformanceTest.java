package io.pgqrs.postgres;

import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The driver conformance suite on PostgreSQL, in a schema of its own. */
@ExtendWith(PostgresDatabase.class)
class PostgresDriverConformanceTest extends DriverConformance {

  private final PostgresDatabase.Target database;

  PostgresDriverConformanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }
}
