package io.pgqrs.postgres;

import io.pgqrs.conformance.DriverConformance;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The driver conformance suite on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerDriverConformanceTest extends DriverConformance {

  private final PostgresDatabase.Target database;

  PgBouncerDriverConformanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }

  /**
   * The caller's transaction on a plain connection of the database itself, not through PgBouncer:
   * an application's own connection, next to a store that goes through the pooler.
   */
  @Override
  protected CallerTransaction beginCallerTransaction() {
    return PostgresCallerTransaction.begin(database.adminConnectionFactory());
  }
}
