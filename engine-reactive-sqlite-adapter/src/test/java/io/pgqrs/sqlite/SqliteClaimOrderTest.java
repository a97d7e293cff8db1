package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A claim delivers in the order it selects: priority first, then the earlier visible, then the
 * lower id. The SPI's {@code now} override moves the clock, so no test waits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqliteClaimOrderTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final Duration LEASE = Duration.ofSeconds(30);

  private Store store;
  private StoreDriver driver;

  @BeforeAll
  void openStore() {
    store = SqliteStores.newFileStore();
    store.admin().install().block(T);
    driver = ((Engine) store).driver();
  }

  @AfterAll
  void closeStore() {
    store.close().block(T);
  }

  private long enqueue(String queue, Duration delay, int priority, Instant now) {
    return driver.enqueue(new StoreParams.Enqueue(queue,
            List.of(new StoreParams.NewRow("{}", delay, null, null, priority)), now))
        .block(T).get(0).id();
  }

  private List<Long> claimAt(String queue, int limit, Instant now) {
    return driver.claim(new StoreParams.Claim(queue, limit, LEASE, null, now)).block(T).claimed().stream()
        .map(Message::id).toList();
  }

  @Test
  void theEarlierVisibleComesFirstAmongEqualPriorities() {
    store.queues().create("visibility_order", 5).block(T);
    Instant start = Instant.parse("2030-01-01T00:00:00Z");
    long later = enqueue("visibility_order", Duration.ofMinutes(2), 0, start);
    long earlier = enqueue("visibility_order", Duration.ofMinutes(1), 0, start);
    assertThat(earlier).isGreaterThan(later);
    assertThat(claimAt("visibility_order", 10, start.plus(Duration.ofMinutes(3)))).containsExactly(earlier, later);
  }

  @Test
  void priorityComesBeforeVisibilityAndIdBreaksTies() {
    store.queues().create("priority_order", 5).block(T);
    Instant start = Instant.parse("2030-01-01T00:00:00Z");
    long lowEarly = enqueue("priority_order", Duration.ZERO, 0, start);
    long highLate = enqueue("priority_order", Duration.ofMinutes(2), 5, start);
    long highEarly = enqueue("priority_order", Duration.ofMinutes(1), 5, start);
    long tieFirst = enqueue("priority_order", Duration.ofMinutes(1), 0, start);
    long tieSecond = enqueue("priority_order", Duration.ofMinutes(1), 0, start);
    assertThat(claimAt("priority_order", 10, start.plus(Duration.ofMinutes(3))))
        .containsExactly(highEarly, highLate, lowEarly, tieFirst, tieSecond);
  }

  @Test
  void deadLetteredRowsComeBackInSelectionOrderToo() {
    store.queues().create("dead_order", 1).block(T);
    Instant start = Instant.parse("2030-01-01T00:00:00Z");
    Duration longLease = Duration.ofMinutes(10);
    long later = enqueue("dead_order", Duration.ofMinutes(2), 0, start);
    long earlier = enqueue("dead_order", Duration.ofMinutes(1), 0, start);
    // Claimed one at a time, so the lease of the higher id ends first.
    assertThat(driver.claim(new StoreParams.Claim("dead_order", 1, longLease, null, start.plus(Duration.ofMinutes(1))))
        .block(T).claimed()).extracting(Message::id).containsExactly(earlier);
    assertThat(driver.claim(new StoreParams.Claim("dead_order", 1, longLease, null, start.plus(Duration.ofMinutes(2))))
        .block(T).claimed()).extracting(Message::id).containsExactly(later);
    // Both leases expire unacknowledged; one attempt is all the queue allows.
    StoreResults.Claimed expired = driver.claim(new StoreParams.Claim("dead_order", 10, LEASE, null,
        start.plus(Duration.ofMinutes(13)))).block(T);
    assertThat(expired.claimed()).isEmpty();
    assertThat(expired.deadLettered()).extracting(Message::id).containsExactly(earlier, later);
  }
}
