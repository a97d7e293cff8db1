package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.admin.SweepReport;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.Step;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Maintenance sweeps: stale workers are stopped and their leases handed back, the archive is
 * purged by age in bounded batches, the schedule is shared, and sweeps racing on one database
 * never do the same work twice. Stores are opened without the background runner, so only the
 * sweeps a test runs happen; "stale" workers are registered with an old heartbeat instead of
 * waiting for one to age.
 */
public abstract class MaintenanceContract extends StoreContract {

  /** The stale threshold of the stores under test. */
  protected static final Duration STALE = Duration.ofHours(1);

  private static final AtomicInteger WORKERS = new AtomicInteger();

  /**
   * The DSN of the database under test; every store opened on it sees the same data.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  /** How many stores share the database in the concurrency test; backends may lower it. */
  protected int stores() {
    return 3;
  }

  /** How many concurrent {@code runOnce} calls each store makes in the concurrency test. */
  protected int sweepsPerStore() {
    return 20;
  }

  /** The configuration of the stores under test: no background runner, a known stale threshold. */
  protected PgqrsConfig config() {
    return PgqrsConfig.builder(dsn()).maintenanceInterval(Duration.ZERO).workerStaleAfter(STALE).build();
  }

  /** Opens another store on the database under test. */
  protected Store connect() {
    return Pgqrs.connect(config()).block(T);
  }

  @Override
  protected Store openStore() {
    return connect();
  }

  /** A worker whose last heartbeat is two stale thresholds old, as if its process had died. */
  private WorkerInfo staleWorker(String queue) {
    return driver().registerWorker(new StoreParams.RegisterWorker("stale-" + WORKERS.incrementAndGet(), queue,
        "test-host", 1, Instant.now().minus(STALE.multipliedBy(2)))).block(T);
  }

  private WorkerInfo freshWorker(String queue) {
    return store.workers().register("fresh-" + WORKERS.incrementAndGet(), queue).block(T);
  }

  private List<Message> claimFor(WorkerInfo worker, int limit) {
    return store.messages().claim(worker.queue(), limit, Duration.ofMinutes(5), worker.id()).block(T);
  }

  private StoreResults.Swept sweep(@Nullable Instant now, Duration interval, int purgeLimit, boolean force) {
    return driver().sweep(new StoreParams.Sweep("test", interval, STALE, Duration.ofDays(7), purgeLimit, force, now))
        .block(T);
  }

  @Test
  void staleWorkersLeasedMessagesComeBackAndTheWorkerIsStopped() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    WorkerInfo dead = staleWorker(q);
    List<Message> held = claimFor(dead, 2);
    assertThat(held).hasSize(2);

    StepVerifier.create(store.maintenance().runOnce())
        .assertNext(report -> {
          assertThat(report.ran()).isTrue();
          assertThat(report.workersReclaimed()).isGreaterThanOrEqualTo(1);
          assertThat(report.messagesReleased()).isGreaterThanOrEqualTo(2);
        })
        .expectComplete()
        .verify(T);

    WorkerInfo stopped = store.workers().get(dead.id()).block(T);
    assertThat(stopped.status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(stopped.stoppedAt()).isNotNull();
    for (Message m : held) {
      Message released = store.messages().get(m.id()).block(T);
      assertThat(released.state()).isEqualTo(MessageState.LIVE);
      assertThat(released.leaseToken()).isNull();
      assertThat(released.leaseOwner()).isNull();
      assertThat(released.attempts()).as("attempts are kept").isEqualTo(1);
      assertThat(released.lastError()).isEqualTo("worker " + dead.id() + " stopped heartbeating");
      StepVerifier.create(store.messages().archive(m.lease())).as("the dead worker's lease is gone")
          .expectNext(false).expectComplete().verify(T);
    }
    assertThat(claim(q, 10)).as("released at once, not after the lease")
        .extracting(Message::id).containsAll(held.stream().map(Message::id).toList()).hasSize(3);
  }

  @Test
  void releasingWakesTheQueuesConsumers() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    claimFor(staleWorker(q), 1);
    StepVerifier.Step<String> wakeups = StepVerifier.create(driver().wakeups(q));
    if (store.capabilities().listenNotify()) {
      wakeups = wakeups.expectNext(q); // the LISTEN itself wakes the queue once
    }
    wakeups
        .then(() -> assertThat(store.maintenance().runOnce().block(T).messagesReleased()).isGreaterThanOrEqualTo(1))
        .expectNext(q)
        .thenCancel()
        .verify(T);
  }

  @Test
  void freshWorkerIsUntouched() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    WorkerInfo alive = freshWorker(q);
    Message held = claimFor(alive, 1).get(0);

    assertThat(store.maintenance().runOnce().block(T).ran()).isTrue();

    assertThat(store.workers().get(alive.id()).block(T).status()).isEqualTo(WorkerStatus.READY);
    Message still = store.messages().get(held.id()).block(T);
    assertThat(still.leaseToken()).isEqualTo(held.leaseToken());
    assertThat(still.leaseOwner()).isEqualTo(alive.id());
    assertThat(still.lastError()).isNull();
  }

  @Test
  void suspendedStaleWorkerIsReclaimedToo() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    WorkerInfo dead = staleWorker(q);
    Message held = claimFor(dead, 1).get(0);
    store.workers().suspend(dead.id()).block(T);

    assertThat(store.maintenance().runOnce().block(T).workersReclaimed()).isGreaterThanOrEqualTo(1);

    assertThat(store.workers().get(dead.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(store.messages().get(held.id()).block(T).leaseToken()).isNull();
  }

  @Test
  void expiredLeasesOfAStaleWorkerAreLeftAlone() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    WorkerInfo dead = staleWorker(q);
    Message held = claimFor(dead, 1).get(0);
    Instant afterExpiry = held.visibleAt().plusSeconds(1);

    StoreResults.Swept swept = sweep(afterExpiry, Duration.ofSeconds(30), 100, true);

    assertThat(swept.ran()).isTrue();
    assertThat(store.workers().get(dead.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    Message m = store.messages().get(held.id()).block(T);
    assertThat(m.lastError()).as("an expired lease is claimable anyway: nothing to release").isNull();
    assertThat(m.visibleAt()).isEqualTo(held.visibleAt());
  }

  @Test
  void retentionPurgesOnlyOldArchivedRowsAtMostPurgeLimitPerSweep() {
    String q = newQueue();
    Instant old = Instant.now().minus(Duration.ofDays(10)).truncatedTo(ChronoUnit.MICROS);
    List<Long> oldIds = archive(q, 5, old);
    List<Long> recentIds = archive(q, 2, null);
    List<Long> live = producer(q).enqueuePayloads(List.of(payload(1))).block(T);

    assertThat(sweep(null, Duration.ofSeconds(30), 3, true).archivedPurged()).isEqualTo(3);
    assertThat(sweep(null, Duration.ofSeconds(30), 3, true).archivedPurged()).isEqualTo(2);
    assertThat(sweep(null, Duration.ofSeconds(30), 3, true).archivedPurged()).isZero();

    assertThat(store.archive().list(q, 0, 100).map(Message::id).collectList().block(T))
        .containsExactlyElementsOf(recentIds).doesNotContainAnyElementsOf(oldIds);
    assertThat(store.messages().get(live.get(0)).block(T).state()).isEqualTo(MessageState.LIVE);
  }

  /** Enqueues, claims and archives {@code n} messages, all at {@code at} (null: the store's now). */
  private List<Long> archive(String queue, int n, @Nullable Instant at) {
    List<StoreParams.NewRow> rows = IntStream.range(0, n)
        .mapToObj(i -> new StoreParams.NewRow("{\"n\":" + i + "}", null, null, null, 0)).toList();
    List<Long> ids = driver().enqueue(new StoreParams.Enqueue(queue, rows, at)).block(T).stream()
        .map(StoreResults.Enqueued::id).toList();
    List<Message> claimed = driver().claim(new StoreParams.Claim(queue, n, Duration.ofMinutes(5), null, at))
        .block(T).claimed();
    assertThat(claimed).hasSize(n);
    List<StoreParams.LeaseRef> leases = claimed.stream()
        .map(m -> new StoreParams.LeaseRef(m.id(), m.leaseToken(), at)).toList();
    assertThat(driver().archiveMany(new StoreParams.ArchiveMany(leases, at)).block(T)).isEqualTo(n);
    return ids;
  }

  @Test
  void sweepThatIsNotDueIsSkippedAndChangesNothing() {
    String q = newQueue();
    Instant start = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.MICROS);
    Duration interval = Duration.ofHours(1);
    assertThat(sweep(start, interval, 100, true).ran()).as("forced").isTrue();
    WorkerInfo alive = freshWorker(q); // stale by the clock of the sweeps below

    Instant early = start.plus(Duration.ofMinutes(30));
    StoreResults.Swept skipped = sweep(early, interval, 100, false);
    assertThat(skipped).isEqualTo(new StoreResults.Swept(false, 0, 0, 0, 0, early));
    assertThat(store.workers().get(alive.id()).block(T).status()).isEqualTo(WorkerStatus.READY);

    StoreResults.Swept due = sweep(start.plus(interval), interval, 100, false);
    assertThat(due.ran()).isTrue();
    assertThat(due.workersReclaimed()).isGreaterThanOrEqualTo(1);
    assertThat(store.workers().get(alive.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
  }

  @Test
  void runOnceOnAClosedStoreFailsWithStoreUnavailable() {
    Store other = connect();
    other.close().block(T);
    StepVerifier.create(other.maintenance().runOnce()).expectError(StoreUnavailableException.class).verify(T);
  }

  @Test
  void concurrentSweepsNeverDoTheSameWorkTwice() {
    String q = newQueue();
    List<Store> stores = new ArrayList<>(List.of(store));
    try {
      for (int i = 1; i < stores(); i++) {
        stores.add(connect());
      }
      store.maintenance().runOnce().block(T); // reclaims what earlier tests left stale
      int workers = 6;
      producer(q).enqueuePayloads(IntStream.range(0, workers * 2).mapToObj(MaintenanceContract::payload).toList())
          .block(T);
      List<Lease> leases = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        claimFor(staleWorker(q), 2).forEach(m -> leases.add(m.lease()));
      }
      assertThat(leases).hasSize(workers * 2);

      int calls = stores.size() * sweepsPerStore();
      List<SweepReport> reports = Flux.range(0, calls)
          .flatMap(i -> stores.get(i % stores.size()).maintenance().runOnce(), calls)
          .collectList()
          .block(Duration.ofMinutes(2));

      assertThat(reports).hasSize(calls).anyMatch(SweepReport::ran);
      assertThat(reports).filteredOn(r -> !r.ran()).as("skipped sweeps did nothing")
          .allMatch(r -> r.workersReclaimed() == 0 && r.messagesReleased() == 0 && r.archivedPurged() == 0);
      assertThat(reports.stream().mapToLong(SweepReport::workersReclaimed).sum()).isEqualTo(workers);
      assertThat(reports.stream().mapToLong(SweepReport::messagesReleased).sum()).isEqualTo(workers * 2L);
      assertThat(claim(q, 100)).extracting(Message::attempts).hasSize(workers * 2).containsOnly(2);
    } finally {
      stores.subList(1, stores.size()).forEach(s -> s.close().block(T));
    }
  }
}
