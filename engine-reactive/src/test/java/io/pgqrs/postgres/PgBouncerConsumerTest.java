package io.pgqrs.postgres;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.ExtendWith;

/** The consumer contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerConsumerTest extends ConsumerContract {

  private final PostgresDatabase.Target database;

  PgBouncerConsumerTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(PgBouncer.dsn(database)).block(T);
  }
}
