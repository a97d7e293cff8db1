package io.pgqrs.postgres;

import io.pgqrs.contract.StoreClockContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The store-clock contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerStoreClockTest extends StoreClockContract {

  private final PostgresDatabase.Target database;

  PgBouncerStoreClockTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }
}
