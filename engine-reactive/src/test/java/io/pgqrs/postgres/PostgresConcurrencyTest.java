package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ConcurrencyContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The concurrency contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresConcurrencyTest extends ConcurrencyContract {

  private final PostgresDatabase.Target database;

  PostgresConcurrencyTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }

  /** Another engine on the same database: the limit is counted across engines. */
  @Override
  protected Store openAnotherEngine() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
