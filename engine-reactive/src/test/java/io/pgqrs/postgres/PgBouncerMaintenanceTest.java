package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.contract.MaintenanceContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

/** The maintenance contract on PostgreSQL through PgBouncer in transaction mode, with {@code pooler=transaction}. */
@ExtendWith(PostgresDatabase.class)
class PgBouncerMaintenanceTest extends MaintenanceContract {

  private final PostgresDatabase.Target database;

  PgBouncerMaintenanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return PgBouncer.dsn(database);
  }

  /** Behind the pooler nothing is woken: a consumer finds the released message at its next poll. */
  @Override
  @Test
  @DisplayName("behind a transaction pooler a released message is found at the consumers' poll")
  protected void releasingWakesTheQueuesConsumers() {
    assertThat(store.config().wakeups()).as("wake-ups behind the pooler").isFalse();
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    claimFor(staleWorker(q), 1);
    assertThat(store.maintenance().runOnce().block(T).messagesReleased()).isEqualTo(1);
    StepVerifier.create(store.consumer(q).pollInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofMillis(300))
            .build().deliveries())
        .assertNext(d -> assertThat(d.message().id()).isEqualTo(id))
        .thenCancel()
        .verify(T);
  }
}
