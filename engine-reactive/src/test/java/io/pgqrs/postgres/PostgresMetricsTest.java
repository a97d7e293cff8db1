package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.MetricsContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The metrics contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresMetricsTest extends MetricsContract {

  private final PostgresDatabase.Target database;

  PostgresMetricsTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
