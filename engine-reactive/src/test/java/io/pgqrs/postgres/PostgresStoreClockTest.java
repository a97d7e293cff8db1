package io.pgqrs.postgres;

import io.pgqrs.contract.StoreClockContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The store-clock contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresStoreClockTest extends StoreClockContract {

  private final PostgresDatabase.Target database;

  PostgresStoreClockTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }
}
