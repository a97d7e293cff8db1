package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.HostileInputContract;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The hostile-input contract on PostgreSQL: unreadable payloads are jsonb nested beyond the reader's depth. */
@ExtendWith(PostgresDatabase.class)
class PostgresHostileInputTest extends HostileInputContract {

  private final PostgresDatabase.Target database;

  PostgresHostileInputTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }

  @Override
  protected void overwritePayload(long messageId, String storedText) {
    String update = "UPDATE \"" + database.schema() + "\".pgqrs_messages SET payload = $1::jsonb WHERE id = $2";
    Long updated = Flux.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(update).bind(0, storedText).bind(1, messageId).execute())
                .flatMap(r -> Mono.from(r.getRowsUpdated())),
            Connection::close)
        .blockLast(T);
    assertThat(updated).isEqualTo(1L);
  }
}
