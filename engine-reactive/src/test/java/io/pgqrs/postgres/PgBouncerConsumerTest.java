package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

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

  /** Behind the pooler nothing listens: an idle stream finds what is enqueued at its next poll. */
  @Override
  @Test
  @DisplayName("behind a transaction pooler an idle stream finds an enqueued message at its poll")
  protected void anIdleStreamWakesOnEnqueueWithoutWaitingForThePoll() {
    assertThat(store.config().wakeups()).as("wake-ups behind the pooler").isFalse();
    String q = newQueue();
    enqueue(q, 1);
    StepVerifier.create(store.consumer(q).pollInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofMillis(300))
            .build().deliveries())
        .expectNextCount(1) // the first claim came back short: the stream is idle now
        .then(() -> enqueue(q, 1))
        .expectNextCount(1)
        .thenCancel()
        .verify(T);
  }
}
