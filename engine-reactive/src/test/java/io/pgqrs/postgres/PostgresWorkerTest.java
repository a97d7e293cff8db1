package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.WorkerContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The worker contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresWorkerTest extends WorkerContract {

  private final PostgresDatabase.Target database;

  PostgresWorkerTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
