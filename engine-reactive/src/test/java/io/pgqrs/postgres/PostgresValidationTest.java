package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ValidationContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The validation contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresValidationTest extends ValidationContract {

  private final PostgresDatabase.Target database;

  PostgresValidationTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
