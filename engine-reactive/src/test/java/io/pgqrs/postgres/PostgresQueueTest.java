package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.QueueContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The queue contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresQueueTest extends QueueContract {

  private final PostgresDatabase.Target database;

  PostgresQueueTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
