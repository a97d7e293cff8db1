package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SQLite dialect reads its time from the database's clock, in SQL, on both engines it runs
 * on: SQLite through JDBC and a real Turso server through Hrana. Durations are added in SQL and
 * saturate at "never"; an operation's {@code now} override is the time of all its writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqlClockTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final AtomicInteger NAMES = new AtomicInteger();
  /** More microseconds than a long holds: bound as the largest long, added as "never". */
  private static final Duration PAST_THE_END_OF_TIME = Duration.ofSeconds(Long.MAX_VALUE / 1_000);
  private static final Instant NEVER = SqliteDriver.instant(Long.MAX_VALUE);

  @RegisterExtension
  static final TursoServer TURSO = new TursoServer();

  private Map<String, Store> stores;

  @BeforeAll
  void openStores() {
    stores = Map.of("sqlite", SqliteStores.newFileStore(), "turso", TURSO.connect());
    stores.values().forEach(s -> s.admin().install().block(T));
  }

  @AfterAll
  void closeStores() {
    stores.values().forEach(s -> s.close().block(T));
  }

  Stream<String> backends() {
    return Stream.of("sqlite", "turso");
  }

  private StoreDriver driver(String backend) {
    return ((Engine) stores.get(backend)).driver();
  }

  private String newQueue(String backend) {
    String name = "clock_" + NAMES.incrementAndGet();
    stores.get(backend).queues().create(name, 5).block(T);
    return name;
  }

  private Message enqueued(String backend, String queue, Duration delay, Instant now) {
    long id = driver(backend).enqueue(new StoreParams.Enqueue(queue,
        List.of(new StoreParams.NewRow("{}", delay, null, null, 0)), now)).block(T).get(0).id();
    return stores.get(backend).messages().get(id).block(T);
  }

  @ParameterizedTest
  @MethodSource("backends")
  void timesWithoutAnOverrideAreTheDatabaseClockToTheMillisecond(String backend) {
    String queue = newQueue(backend);
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Message m = enqueued(backend, queue, null, null);
    Instant after = Instant.now();
    assertThat(m.enqueuedAt()).isBetween(before, after);
    assertThat(m.enqueuedAt().getNano() % 1_000_000).isZero();
    assertThat(m.visibleAt()).isEqualTo(m.enqueuedAt());
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aDelayIsAddedToTheEnqueueTimeInSql(String backend) {
    String queue = newQueue(backend);
    Message m = enqueued(backend, queue, Duration.ofSeconds(90).plusNanos(1_000), null);
    assertThat(Duration.between(m.enqueuedAt(), m.visibleAt())).isEqualTo(Duration.ofSeconds(90).plusNanos(1_000));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void theOverrideIsTheTimeOfEveryWriteOfTheOperation(String backend) {
    String queue = newQueue(backend);
    Instant at = Instant.parse("2031-02-03T04:05:06.789012Z");
    Message m = enqueued(backend, queue, Duration.ofMinutes(1), at);
    assertThat(m.enqueuedAt()).isEqualTo(at);
    assertThat(m.visibleAt()).isEqualTo(at.plus(Duration.ofMinutes(1)));
    Instant claimAt = at.plus(Duration.ofMinutes(2));
    Message claimed = driver(backend).claim(new StoreParams.Claim(queue, 1, Duration.ofSeconds(45), null, claimAt))
        .block(T).claimed().get(0);
    assertThat(claimed.visibleAt()).isEqualTo(claimAt.plusSeconds(45));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aDelayPastTheEndOfTimeSaturatesAtNever(String backend) {
    String queue = newQueue(backend);
    Message m = enqueued(backend, queue, PAST_THE_END_OF_TIME, null);
    assertThat(m.visibleAt()).isEqualTo(NEVER);
    Duration wait = driver(backend).untilNextVisible(queue, null).block(T);
    assertThat(wait).isGreaterThan(Duration.ofDays(365L * 200_000));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void aTimeoutPastTheEndOfTimeSaturatesTheDeadlineAtNever(String backend) {
    String workflow = "clock_flow_" + NAMES.incrementAndGet();
    StoreDriver driver = driver(backend);
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(workflow, null, 5, null)).block(T);
    long runId = driver.triggerRun(new StoreParams.TriggerRun(workflow, workflow, null, "{}", null, PAST_THE_END_OF_TIME, null, null))
        .block(T).runId();
    assertThat(driver.findRun(runId).block(T).deadline()).isEqualTo(NEVER);
    long bounded = driver.triggerRun(new StoreParams.TriggerRun(workflow, workflow, null, "{}", null, Duration.ofHours(1), null, null))
        .block(T).runId();
    var run = driver.findRun(bounded).block(T);
    assertThat(Duration.between(run.createdAt(), run.deadline())).isEqualTo(Duration.ofHours(1));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void verifyFindsEveryObjectOfAnInstalledDatabase(String backend) {
    var report = stores.get(backend).admin().verify().block(T);
    assertThat(report.missing()).isEmpty();
    assertThat(report.isValid()).isTrue();
  }
}
