package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.RestartForkContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The restart and fork contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresRestartForkTest extends RestartForkContract {

  private final PostgresDatabase.Target database;

  PostgresRestartForkTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
