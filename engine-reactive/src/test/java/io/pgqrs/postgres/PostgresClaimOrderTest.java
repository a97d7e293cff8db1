package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.testing.PostgresDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

/**
 * A claim hands its messages over in the order it selected them: priority first, then the time
 * they became visible, then id. The clock is moved with the SPI's {@code now} parameter.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresClaimOrderTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final Duration LEASE = Duration.ofSeconds(30);

  /** A fixed clock well in the past, in whole microseconds as PostgreSQL stores them. */
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z").truncatedTo(ChronoUnit.MICROS);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresClaimOrderTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    store = Pgqrs.connect(db.dsn()).block(T);
    store.admin().install().block(T);
  }

  @AfterAll
  void close() {
    store.close().block(T);
  }

  private StoreDriver driver() {
    return ((Engine) store).driver();
  }

  private void createQueue(String queue, int maxAttempts) {
    driver().createQueue(new StoreParams.CreateQueue(queue, maxAttempts, T0)).block(T);
  }

  private long enqueue(String queue, Instant visibleAt, int priority) {
    StoreParams.NewRow row = new StoreParams.NewRow("{}", null, visibleAt, null, priority);
    return driver().enqueue(new StoreParams.Enqueue(queue, List.of(row), T0)).block(T).get(0).id();
  }

  private StoreResults.Claimed claimAt(String queue, Instant now) {
    return driver().claim(new StoreParams.Claim(queue, 10, LEASE, null, now)).block(T);
  }

  @Test
  void claimedMessagesOfEqualPriorityComeInTheOrderTheyBecameVisible() {
    createQueue("visible_order", 5);
    long later = enqueue("visible_order", T0.plusSeconds(2), 0);
    long earlier = enqueue("visible_order", T0.plusSeconds(1), 0);
    long urgent = enqueue("visible_order", T0.plusSeconds(3), 5);
    assertThat(earlier).as("the earlier visible message has the higher id").isGreaterThan(later);

    StepVerifier.create(driver().claim(new StoreParams.Claim("visible_order", 10, LEASE, null, T0.plusSeconds(5))))
        .assertNext(claimed -> {
          assertThat(claimed.claimed()).extracting(Message::id).containsExactly(urgent, earlier, later);
          assertThat(claimed.deadLettered()).isEmpty();
        })
        .expectComplete()
        .verify(T);
  }

  @Test
  void deadLetteredMessagesComeInTheOrderTheyBecameVisible() {
    createQueue("dead_order", 1);
    long first = enqueue("dead_order", T0, 0);
    long second = enqueue("dead_order", T0, 0);
    List<Message> delivered = claimAt("dead_order", T0).claimed();
    assertThat(delivered).extracting(Message::id).containsExactly(first, second);
    // Released so that the message enqueued second becomes visible first.
    release(delivered.get(0), Duration.ofSeconds(2));
    release(delivered.get(1), Duration.ofSeconds(1));

    StepVerifier.create(driver().claim(new StoreParams.Claim("dead_order", 10, LEASE, null, T0.plusSeconds(5))))
        .assertNext(claimed -> {
          assertThat(claimed.claimed()).as("every message has used its one attempt").isEmpty();
          assertThat(claimed.deadLettered()).extracting(Message::id).containsExactly(second, first);
          assertThat(claimed.deadLettered()).extracting(Message::visibleAt)
              .containsExactly(T0.plusSeconds(1), T0.plusSeconds(2));
        })
        .expectComplete()
        .verify(T);
  }

  private void release(Message message, Duration delay) {
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(message.id(), message.leaseToken(), T0);
    assertThat(driver().release(new StoreParams.Release(lease, delay, null)).block(T)).isTrue();
  }
}
