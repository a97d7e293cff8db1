package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The consumer contract on PostgreSQL. */
@ExtendWith(PostgresDatabase.class)
class PostgresConsumerTest extends ConsumerContract {

  private final PostgresDatabase.Target database;

  PostgresConsumerTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }
}
