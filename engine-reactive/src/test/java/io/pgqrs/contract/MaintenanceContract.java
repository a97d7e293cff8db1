package io.pgqrs.contract;

import io.pgqrs.internal.RunTransitions;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.admin.ArchiveCleanerReport;
import io.pgqrs.admin.LeaseRescuerReport;
import io.pgqrs.admin.MaintenanceService;
import io.pgqrs.admin.RetentionCleanerReport;
import io.pgqrs.admin.RunReaperReport;
import io.pgqrs.admin.SweepReport;
import io.pgqrs.internal.Engine;
import io.pgqrs.internal.Json;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Maintenance services: the lease rescuer stops stale workers and hands their leases back, the
 * run reaper ends runs no worker will finish, the archive cleaner and the retention cleaner purge
 * what is older than its retention in bounded batches, turns are shared between instances, and
 * services racing on one database never do the same work twice. Stores are opened without
 * background services, so only the turns a test runs happen; "stale" workers are registered with
 * an old heartbeat and "old" rows are written with the SPI's clock override instead of waiting
 * for them to age.
 *
 * <p>Every test starts by running every service once, so the rows earlier tests of the class left
 * behind are settled and each test can count exactly what it made. Old rows are made
 * {@link #longAgo()}, past every default retention, so they never outlive the next settling.
 */
public abstract class MaintenanceContract extends StoreContract {

  /** The stale threshold of the stores under test. */
  protected static final Duration STALE = Duration.ofHours(1);

  private static final AtomicInteger WORKERS = new AtomicInteger();
  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

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

  /** The configuration of the stores under test: no background services, a known stale threshold. */
  protected PgqrsConfig config() {
    return PgqrsConfig.builder(dsn()).maintenanceInterval(Duration.ZERO).workerStaleAfter(STALE).build();
  }

  /** Opens another store on the database under test. */
  protected Store connect() {
    return connect(config());
  }

  /** Opens another store on the database under test with the given configuration. */
  protected Store connect(PgqrsConfig config) {
    return Pgqrs.connect(config).block(T);
  }

  @Override
  protected Store openStore() {
    return connect();
  }

  @BeforeEach
  void settleWhatEarlierTestsLeft() {
    store.maintenance().runOnce().block(T);
  }

  /** Thirty days ago, past every default retention, to the microsecond every backend keeps. */
  protected static Instant longAgo() {
    return Instant.now().minus(Duration.ofDays(30)).truncatedTo(ChronoUnit.MICROS);
  }

  /** A worker whose last heartbeat is two stale thresholds old, as if its process had died. */
  protected WorkerInfo staleWorker(String queue) {
    return workerAt(queue, Instant.now().minus(STALE.multipliedBy(2)));
  }

  private WorkerInfo workerAt(String queue, Instant at) {
    return driver().registerWorker(new StoreParams.RegisterWorker("stale-" + WORKERS.incrementAndGet(), queue,
        "test-host", 1, at)).block(T);
  }

  private WorkerInfo freshWorker(String queue) {
    return store.workers().register("fresh-" + WORKERS.incrementAndGet(), queue).block(T);
  }

  /** A worker registered and shut down (leases released) at {@code at}. */
  private long stoppedWorker(String queue, Instant at) {
    long id = workerAt(queue, at).id();
    assertThat(driver().shutdownWorker(new StoreParams.ShutdownWorker(id, true, at)).block(T))
        .isInstanceOf(StoreResults.WorkerStopped.class);
    return id;
  }

  protected List<Message> claimFor(WorkerInfo worker, int limit) {
    return store.messages().claim(worker.queue(), limit, Duration.ofMinutes(5), worker.id()).block(T);
  }

  /** Enqueues, claims and archives {@code n} messages, all at {@code at} (null: the store's now). */
  private List<Long> archive(String queue, int n, @Nullable Instant at) {
    List<Message> claimed = enqueueAndClaim(queue, n, at);
    List<StoreParams.LeaseRef> leases = claimed.stream()
        .map(m -> new StoreParams.LeaseRef(m.id(), m.leaseToken(), at)).toList();
    assertThat(driver().archiveMany(new StoreParams.ArchiveMany(leases, at)).block(T)).isEqualTo(n);
    return claimed.stream().map(Message::id).toList();
  }

  /** Enqueues, claims and dead-letters {@code n} messages, all at {@code at} (null: the store's now). */
  private List<Long> deadLetters(String queue, int n, @Nullable Instant at) {
    List<Long> ids = new ArrayList<>();
    for (Message m : enqueueAndClaim(queue, n, at)) {
      assertThat(driver().deadLetter(new StoreParams.DeadLetter(new StoreParams.LeaseRef(m.id(), m.leaseToken(), at),
          "given up")).block(T)).isTrue();
      ids.add(m.id());
    }
    return ids;
  }

  private List<Message> enqueueAndClaim(String queue, int n, @Nullable Instant at) {
    List<StoreParams.NewRow> rows = IntStream.range(0, n)
        .mapToObj(i -> new StoreParams.NewRow("{\"n\":" + i + "}", null, null, null, 0)).toList();
    List<Long> ids = driver().enqueue(new StoreParams.Enqueue(queue, rows, at)).block(T).stream()
        .map(StoreResults.Enqueued::id).toList();
    List<Message> claimed = driver().claim(new StoreParams.Claim(queue, n, Duration.ofMinutes(5), null, at))
        .block(T).claimed();
    assertThat(claimed).extracting(Message::id).containsExactlyInAnyOrderElementsOf(ids);
    return claimed;
  }

  /** Registers a workflow (and its queue) of a unique name. */
  private String newWorkflow() {
    String name = "wf" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    name = name.length() > 63 ? name.substring(0, 63) : name;
    driver().registerWorkflow(new StoreParams.RegisterWorkflow(name, null, 5, longAgo())).block(T);
    return name;
  }

  private long trigger(String workflow, @Nullable Duration timeout, @Nullable Instant at) {
    return driver().triggerRun(new StoreParams.TriggerRun(workflow, workflow, null, "{}", null, timeout, null, at)).block(T).runId();
  }

  /** Claims the only claimable message of a workflow's queue: its newest run's trigger. */
  private Message claimTrigger(String workflow, @Nullable Instant at) {
    return claimTrigger(workflow, Duration.ofMinutes(5), at);
  }

  private Message claimTrigger(String workflow, Duration lease, @Nullable Instant at) {
    List<Message> claimed = driver().claim(new StoreParams.Claim(workflow, 1, lease, null, at))
        .block(T).claimed();
    assertThat(claimed).hasSize(1);
    return claimed.get(0);
  }

  /** A run begun, with {@code steps} finished steps and {@code signals} signals, finished SUCCESS, all at {@code at}. */
  private long finishedRun(int steps, int signals, @Nullable Instant at) {
    String workflow = newWorkflow();
    long runId = trigger(workflow, null, at);
    Message trigger = claimTrigger(workflow, at);
    driver().beginRun(new StoreParams.BeginRun(runId, RunTransitions.BEGIN, at)).block(T);
    runSteps(runId, trigger, steps, at);
    for (int i = 0; i < signals; i++) {
      driver().signalRun(new StoreParams.SignalRun(runId, "signal" + i, "1", at)).block(T);
    }
    assertThat(driver().finishRun(new StoreParams.FinishRun(runId,
            new StoreParams.LeaseRef(trigger.id(), trigger.leaseToken(), at), RunStatus.SUCCESS, RunTransitions.finish(RunStatus.SUCCESS), "null", null, at))
        .block(T)).isEqualTo(RunStatus.SUCCESS);
    return runId;
  }

  private void runSteps(long runId, Message trigger, int steps, @Nullable Instant at) {
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(trigger.id(), trigger.leaseToken(), at);
    for (int i = 0; i < steps; i++) {
      String stepId = "step" + i;
      assertThat(driver().recordSteps(new StoreParams.RecordSteps(List.of(new StoreParams.RecordStep(runId, lease,
              Integer.toString(i + 1), stepId, StepStatus.SUCCESS, "1", null, null, 1, null, null, i + 1,
              Duration.ZERO)), at)).block(T))
          .containsExactly(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    }
  }

  /** A run whose deadline passed long ago while no worker held its message. */
  private long runPastItsDeadline() {
    String workflow = newWorkflow();
    return trigger(workflow, Duration.ofMinutes(1), longAgo());
  }

  /** A run whose trigger message was dead-lettered long ago. */
  private long runWithADeadTrigger() {
    Instant old = longAgo();
    String workflow = newWorkflow();
    long runId = trigger(workflow, null, old);
    Message trigger = claimTrigger(workflow, old);
    assertThat(driver().deadLetter(new StoreParams.DeadLetter(
        new StoreParams.LeaseRef(trigger.id(), trigger.leaseToken(), old), "poison")).block(T)).isTrue();
    return runId;
  }

  private RunInfo run(long runId) {
    return driver().findRun(runId).block(T);
  }

  private StoreResults.MaintenanceSchedule schedule(StoreDriver driver, String service) {
    return driver.maintenanceSchedules().filter(s -> s.service().equals(service)).single().block(T);
  }

  private Map<String, StoreResults.MaintenanceSchedule> schedules(StoreDriver driver) {
    return driver.maintenanceSchedules().collectMap(StoreResults.MaintenanceSchedule::service).block(T);
  }

  /** Makes every service's next turn due now. */
  private void makeEveryServiceDue(StoreDriver driver) {
    for (String service : SERVICES) {
      driver.takeMaintenanceTurn(new StoreParams.MaintenanceTurn(service, "test", Duration.ZERO, true, null)).block(T);
    }
  }

  private static final List<String> SERVICES =
      List.of("archive-cleaner", "lease-rescuer", "retention-cleaner", "run-reaper", "scheduler");

  /** Polls until the condition holds: waits on state, not on time. */
  protected static <V> V awaitState(Supplier<V> read, Predicate<V> done) {
    return Flux.interval(Duration.ZERO, Duration.ofMillis(20))
        .onBackpressureDrop()
        .concatMap(i -> Mono.fromSupplier(read).subscribeOn(Schedulers.boundedElastic()))
        .filter(done)
        .blockFirst(T);
  }

  // ---------------------------------------------------------------- lease rescuer

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
          assertThat(report.workersReclaimed()).isEqualTo(1);
          assertThat(report.messagesReleased()).isEqualTo(2);
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
  void leaseRescuerRunOnceReportsWhatItDid() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    WorkerInfo one = staleWorker(q);
    WorkerInfo two = staleWorker(q);
    claimFor(one, 2);
    claimFor(two, 1);

    StepVerifier.create(store.maintenance().leaseRescuer().runOnce())
        .assertNext(report -> assertThat(report).usingRecursiveComparison().ignoringFields("at")
            .isEqualTo(new LeaseRescuerReport(true, 2, 3, 1, Instant.EPOCH)))
        .expectComplete()
        .verify(T);
    assertThat(store.maintenance().leaseRescuer().name()).isEqualTo("lease-rescuer");
    assertThat(store.workers().get(one.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(store.workers().get(two.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
  }

  /** Overridden where wake-ups are off (behind a transaction-mode pooler), with what holds there. */
  @Test
  protected void releasingWakesTheQueuesConsumers() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    claimFor(staleWorker(q), 1);
    StepVerifier.Step<String> wakeups = StepVerifier.create(driver().wakeups(q));
    if (store.capabilities().listenNotify()) {
      wakeups = wakeups.expectNext(q); // the LISTEN itself wakes the queue once
    }
    wakeups
        .then(() -> assertThat(store.maintenance().runOnce().block(T).messagesReleased()).isEqualTo(1))
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

    assertThat(store.maintenance().runOnce().block(T).workersReclaimed()).isEqualTo(1);

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

    StoreResults.WorkersRescued rescued =
        driver().rescueStaleWorkers(new StoreParams.RescueStaleWorkers(STALE, 100, afterExpiry)).block(T);

    assertThat(rescued.workersStopped()).isEqualTo(1);
    assertThat(rescued.messagesReleased()).isZero();
    assertThat(store.workers().get(dead.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    Message m = store.messages().get(held.id()).block(T);
    assertThat(m.lastError()).as("an expired lease is claimable anyway: nothing to release").isNull();
    assertThat(m.visibleAt()).isEqualTo(held.visibleAt());
  }

  @Test
  void rescueStopsAtMostItsLimitOfWorkers() {
    String q = newQueue();
    for (int i = 0; i < 5; i++) {
      staleWorker(q);
    }
    assertThat(IntStream.range(0, 4).mapToObj(i -> driver().rescueStaleWorkers(
            new StoreParams.RescueStaleWorkers(STALE, 2, null)).block(T).workersStopped()))
        .containsExactly(2L, 2L, 1L, 0L);
  }

  // ---------------------------------------------------------------- run reaper

  @Test
  void runReaperRunOnceEndsRunsNoWorkerWillFinish() {
    long timedOut = runPastItsDeadline();
    long poisoned = runWithADeadTrigger();
    String workflow = newWorkflow();
    long held = trigger(workflow, Duration.ofMinutes(1), longAgo());
    // A worker holds it now and enforces the deadline itself; held longer than the test class runs.
    claimTrigger(workflow, Duration.ofDays(1), null);
    long open = trigger(newWorkflow(), null, null);

    StepVerifier.create(store.maintenance().runReaper().runOnce())
        .assertNext(report -> assertThat(report).usingRecursiveComparison().ignoringFields("at")
            .isEqualTo(new RunReaperReport(true, 2, 1, Instant.EPOCH)))
        .expectComplete()
        .verify(T);

    assertThat(run(timedOut).status()).isEqualTo(RunStatus.ERROR);
    assertThat(run(timedOut).error()).isEqualTo("the run timed out: its deadline passed");
    assertThat(run(poisoned).status()).isEqualTo(RunStatus.ERROR);
    assertThat(run(poisoned).error())
        .isEqualTo("its trigger message was dead-lettered after repeated failed deliveries");
    assertThat(run(held).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(run(open).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(store.maintenance().runReaper().name()).isEqualTo("run-reaper");
  }

  @Test
  void reapEndsAtMostItsLimitOfRuns() {
    for (int i = 0; i < 5; i++) {
      runPastItsDeadline();
    }
    assertThat(IntStream.range(0, 4).mapToObj(i -> driver().reapRuns(new StoreParams.ReapRuns(2, RunTransitions.reap(), null)).block(T)))
        .containsExactly(2L, 2L, 1L, 0L);
  }

  // ---------------------------------------------------------------- archive cleaner

  @Test
  void retentionPurgesOnlyOldArchivedRowsAtMostPurgeLimitPerSweep() {
    String q = newQueue();
    Instant old = Instant.now().minus(Duration.ofDays(10)).truncatedTo(ChronoUnit.MICROS);
    List<Long> oldIds = archive(q, 5, old);
    List<Long> recentIds = archive(q, 2, null);
    List<Long> live = producer(q).enqueuePayloads(List.of(payload(1))).block(T);

    StoreParams.PurgeBatch batch = new StoreParams.PurgeBatch(Duration.ofDays(7), 3, null);
    assertThat(driver().purgeArchived(batch).block(T)).isEqualTo(3);
    assertThat(driver().purgeArchived(batch).block(T)).isEqualTo(2);
    assertThat(driver().purgeArchived(batch).block(T)).isZero();

    assertThat(store.archive().list(q, 0, 100).map(Message::id).collectList().block(T))
        .containsExactlyElementsOf(recentIds).doesNotContainAnyElementsOf(oldIds);
    assertThat(store.messages().get(live.get(0)).block(T).state()).isEqualTo(MessageState.LIVE);
  }

  @Test
  void archiveCleanerRunOnceReportsWhatItPurged() {
    String q = newQueue();
    List<Long> old = archive(q, 3, longAgo());
    List<Long> recent = archive(q, 1, null);

    StepVerifier.create(store.maintenance().archiveCleaner().runOnce())
        .assertNext(report -> assertThat(report).usingRecursiveComparison().ignoringFields("at")
            .isEqualTo(new ArchiveCleanerReport(true, 3, 1, Instant.EPOCH)))
        .expectComplete()
        .verify(T);

    assertThat(store.archive().list(q, 0, 100).map(Message::id).collectList().block(T))
        .containsExactlyElementsOf(recent).doesNotContainAnyElementsOf(old);
    assertThat(store.maintenance().archiveCleaner().name()).isEqualTo("archive-cleaner");
  }

  @Test
  void aServicePurgesEverythingInBatchesOfTheBatchSize() {
    String q = newQueue();
    archive(q, 5, longAgo());
    deadLetters(q, 5, longAgo());
    Store small = connect(config().toBuilder().maintenanceBatchSize(2).build());
    try {
      assertThat(small.maintenance().archiveCleaner().runOnce().block(T))
          .as("2 + 2 + 1: the short third batch ends the turn")
          .usingRecursiveComparison().ignoringFields("at").isEqualTo(new ArchiveCleanerReport(true, 5, 3, Instant.EPOCH));
      assertThat(small.maintenance().retentionCleaner().runOnce().block(T))
          .as("three batches of dead letters, one (empty) of runs, one of workers")
          .usingRecursiveComparison().ignoringFields("at")
          .isEqualTo(new RetentionCleanerReport(true, 5, 0, 0, 0, 0, 5, Instant.EPOCH));
    } finally {
      small.close().block(T);
    }
    assertThat(store.archive().list(q, 0, 100).collectList().block(T)).isEmpty();
    assertThat(store.deadLetters().list(q, 0, 100).collectList().block(T)).isEmpty();
  }

  // ---------------------------------------------------------------- retention cleaner

  @Test
  void retentionCleanerRunOnceReportsWhatItPurged() {
    String q = newQueue();
    Instant old = longAgo();
    List<Long> oldDead = deadLetters(q, 2, old);
    List<Long> recentDead = deadLetters(q, 1, null);
    long oldRun = finishedRun(2, 1, old);
    long recentRun = finishedRun(1, 1, null);
    long oldWorker = stoppedWorker(q, old);
    long recentWorker = stoppedWorker(q, Instant.now());

    StepVerifier.create(store.maintenance().retentionCleaner().runOnce())
        .assertNext(report -> assertThat(report).usingRecursiveComparison().ignoringFields("at")
            .isEqualTo(new RetentionCleanerReport(true, 2, 1, 2, 1, 1, 3, Instant.EPOCH)))
        .expectComplete()
        .verify(T);

    assertThat(store.deadLetters().list(q, 0, 100).map(Message::id).collectList().block(T))
        .containsExactlyElementsOf(recentDead).doesNotContainAnyElementsOf(oldDead);
    assertThat(driver().findRun(oldRun).blockOptional(T)).isEmpty();
    assertThat(run(recentRun).status()).isEqualTo(RunStatus.SUCCESS);
    assertThat(driver().findWorker(oldWorker).blockOptional(T)).isEmpty();
    assertThat(driver().findWorker(recentWorker).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(store.maintenance().retentionCleaner().name()).isEqualTo("retention-cleaner");
  }

  @Test
  void deadLettersOlderThanTheRetentionArePurgedYoungerOnesKept() {
    String q = newQueue();
    Instant old = longAgo();
    List<Long> older = deadLetters(q, 2, old);
    List<Long> younger = deadLetters(q, 1, old.plus(Duration.ofHours(1)));
    Duration retention = Duration.between(old.plus(Duration.ofMinutes(30)), Instant.now());

    assertThat(driver().purgeDeadLetters(new StoreParams.PurgeBatch(retention, 100, null)).block(T)).isEqualTo(2);

    assertThat(store.deadLetters().list(q, 0, 100).map(Message::id).collectList().block(T))
        .containsExactlyElementsOf(younger).doesNotContainAnyElementsOf(older);
  }

  @Test
  void finishedRunsArePurgedWithTheirStepsAndSignalsAndUnfinishedRunsNever() {
    Instant old = longAgo();
    long finished = finishedRun(2, 1, old);
    long finishedLater = finishedRun(1, 0, old.plus(Duration.ofHours(1)));
    long queued = trigger(newWorkflow(), null, old);
    String workflow = newWorkflow();
    long running = trigger(workflow, null, old);
    Message runningTrigger = claimTrigger(workflow, old);
    driver().beginRun(new StoreParams.BeginRun(running, RunTransitions.BEGIN, old)).block(T);
    runSteps(running, runningTrigger, 1, old);
    long paused = trigger(newWorkflow(), null, old);
    driver().controlRun(RunTransitions.control(paused, StoreParams.RunControl.PAUSE, null, old)).block(T);
    Duration retention = Duration.between(old.plus(Duration.ofMinutes(30)), Instant.now());

    assertThat(driver().purgeFinishedRuns(new StoreParams.PurgeBatch(retention, 100, null)).block(T))
        .isEqualTo(new StoreResults.FinishedRunsPurged(1, 2, 1));

    assertThat(driver().findRun(finished).blockOptional(T)).isEmpty();
    assertThat(driver().listSteps(finished).collectList().block(T)).isEmpty();
    assertThat(run(finishedLater).status()).as("younger than the retention").isEqualTo(RunStatus.SUCCESS);

    driver().purgeFinishedRuns(new StoreParams.PurgeBatch(Duration.ZERO, 100, null)).block(T);
    assertThat(driver().findRun(finishedLater).blockOptional(T)).isEmpty();
    assertThat(run(queued).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(run(running).status()).isEqualTo(RunStatus.RUNNING);
    assertThat(driver().listSteps(running).collectList().block(T)).hasSize(1);
    assertThat(run(paused).status()).isEqualTo(RunStatus.PAUSED);
  }

  @Test
  void stoppedWorkersArePurgedOnlyWhenOldAndHoldingNoLease() {
    String q = newQueue();
    Instant old = longAgo();
    long oldStopped = stoppedWorker(q, old);
    // Stopped by the rescuer long ago with an expired lease it never gave back: still named on the message.
    WorkerInfo holder = workerAt(q, old);
    driver().enqueue(new StoreParams.Enqueue(q, List.of(new StoreParams.NewRow("{}", null, null, null, 0)), old))
        .block(T);
    assertThat(driver().claim(new StoreParams.Claim(q, 1, Duration.ofMinutes(5), holder.id(), old)).block(T)
        .claimed()).hasSize(1);
    driver().rescueStaleWorkers(new StoreParams.RescueStaleWorkers(STALE, 100, old.plus(Duration.ofHours(2))))
        .block(T);
    assertThat(driver().findWorker(holder.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    long youngerStopped = stoppedWorker(q, old.plus(Duration.ofHours(4)));
    long ready = workerAt(q, old).id();
    Duration retention = Duration.between(old.plus(Duration.ofHours(3)), Instant.now());

    assertThat(driver().purgeStoppedWorkers(new StoreParams.PurgeBatch(retention, 100, null)).block(T)).isEqualTo(1);

    assertThat(driver().findWorker(oldStopped).blockOptional(T)).isEmpty();
    assertThat(driver().findWorker(holder.id()).blockOptional(T)).as("named as a lease holder").isPresent();
    assertThat(driver().findWorker(youngerStopped).blockOptional(T)).as("younger than the retention").isPresent();
    assertThat(driver().findWorker(ready).block(T).status()).as("never stopped").isEqualTo(WorkerStatus.READY);
  }

  @Test
  void purgeArchivedTouchesAtMostItsLimit() {
    archive(newQueue(), 5, longAgo());
    assertThat(batchesOf(() -> driver().purgeArchived(new StoreParams.PurgeBatch(Duration.ofDays(20), 2, null))))
        .containsExactly(2L, 2L, 1L, 0L);
  }

  @Test
  void purgeDeadLettersTouchesAtMostItsLimit() {
    deadLetters(newQueue(), 5, longAgo());
    assertThat(batchesOf(() -> driver().purgeDeadLetters(new StoreParams.PurgeBatch(Duration.ofDays(20), 2, null))))
        .containsExactly(2L, 2L, 1L, 0L);
  }

  @Test
  void purgeFinishedRunsTouchesAtMostItsLimit() {
    Instant old = longAgo();
    for (int i = 0; i < 5; i++) {
      finishedRun(1, 1, old);
    }
    assertThat(IntStream.range(0, 4).mapToObj(i -> driver().purgeFinishedRuns(
            new StoreParams.PurgeBatch(Duration.ofDays(20), 2, null)).block(T)))
        .containsExactly(new StoreResults.FinishedRunsPurged(2, 2, 2), new StoreResults.FinishedRunsPurged(2, 2, 2),
            new StoreResults.FinishedRunsPurged(1, 1, 1), new StoreResults.FinishedRunsPurged(0, 0, 0));
  }

  @Test
  void purgeStoppedWorkersTouchesAtMostItsLimit() {
    String q = newQueue();
    Instant old = longAgo();
    for (int i = 0; i < 5; i++) {
      stoppedWorker(q, old);
    }
    assertThat(batchesOf(() -> driver().purgeStoppedWorkers(new StoreParams.PurgeBatch(Duration.ofDays(20), 2, null))))
        .containsExactly(2L, 2L, 1L, 0L);
  }

  private static List<Long> batchesOf(Supplier<Mono<Long>> batch) {
    return IntStream.range(0, 4).mapToObj(i -> batch.get().block(T)).toList();
  }

  // ---------------------------------------------------------------- turns

  @Test
  void sweepThatIsNotDueIsSkippedAndChangesNothing() {
    String q = newQueue();
    Instant start = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.MICROS);
    Duration interval = Duration.ofHours(1);
    Instant due = start.plus(interval);
    // Settles every worker that would be stale by the clock of the turns below.
    driver().rescueStaleWorkers(new StoreParams.RescueStaleWorkers(STALE, 100_000, due)).block(T);
    assertThat(turn("lease-rescuer", "test", interval, true, start).taken()).as("forced").isTrue();
    StoreResults.MaintenanceSchedule before = schedule(driver(), "lease-rescuer");
    WorkerInfo alive = freshWorker(q); // stale by the clock of the turns below

    Instant early = start.plus(Duration.ofMinutes(30));
    StoreResults.TurnTaken skipped = turn("lease-rescuer", "test", interval, false, early);
    assertThat(skipped).isEqualTo(new StoreResults.TurnTaken(false, early));
    assertThat(schedule(driver(), "lease-rescuer")).isEqualTo(before);
    assertThat(store.workers().get(alive.id()).block(T).status()).isEqualTo(WorkerStatus.READY);

    assertThat(turn("lease-rescuer", "test", interval, false, due)).isEqualTo(new StoreResults.TurnTaken(true, due));
    StoreResults.WorkersRescued rescued =
        driver().rescueStaleWorkers(new StoreParams.RescueStaleWorkers(STALE, 100, due)).block(T);
    assertThat(rescued.workersStopped()).isEqualTo(1);
    assertThat(store.workers().get(alive.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
  }

  @Test
  void aTurnTakenByOneInstanceIsNotTakenByAnotherInsideTheInterval() {
    Instant start = Instant.now().plus(Duration.ofDays(2)).truncatedTo(ChronoUnit.MICROS);
    Duration interval = Duration.ofHours(1);
    long turnsBefore = schedule(driver(), "archive-cleaner").turns();

    assertThat(turn("archive-cleaner", "one", interval, true, start))
        .isEqualTo(new StoreResults.TurnTaken(true, start));
    StoreResults.MaintenanceSchedule taken = schedule(driver(), "archive-cleaner");
    assertThat(taken).isEqualTo(new StoreResults.MaintenanceSchedule("archive-cleaner", start.plus(interval), start,
        "one", turnsBefore + 1));

    Instant inside = start.plus(Duration.ofMinutes(59));
    assertThat(turn("archive-cleaner", "two", interval, false, inside))
        .isEqualTo(new StoreResults.TurnTaken(false, inside));
    assertThat(schedule(driver(), "archive-cleaner")).as("unchanged").isEqualTo(taken);

    Instant due = start.plus(interval);
    assertThat(turn("archive-cleaner", "two", interval, false, due)).isEqualTo(new StoreResults.TurnTaken(true, due));
    assertThat(schedule(driver(), "archive-cleaner")).isEqualTo(new StoreResults.MaintenanceSchedule(
        "archive-cleaner", due.plus(interval), due, "two", turnsBefore + 2));
  }

  private StoreResults.TurnTaken turn(String service, String instance, Duration interval, boolean force, Instant now) {
    return driver().takeMaintenanceTurn(new StoreParams.MaintenanceTurn(service, instance, interval, force, now))
        .block(T);
  }

  @Test
  void everyServiceHasASchedule() {
    assertThat(schedules(driver())).containsOnlyKeys(SERVICES);
    List<MaintenanceService<?>> services = List.of(store.maintenance().leaseRescuer(),
        store.maintenance().runReaper(), store.maintenance().archiveCleaner(), store.maintenance().retentionCleaner(),
        store.maintenance().scheduler());
    assertThat(services).extracting(MaintenanceService::name).containsExactlyInAnyOrderElementsOf(SERVICES);
  }

  // ---------------------------------------------------------------- lifecycle

  @Test
  void runOnceOnAClosedStoreFailsWithStoreUnavailable() {
    Store other = connect();
    other.close().block(T);
    StepVerifier.create(other.maintenance().runOnce()).expectError(StoreUnavailableException.class).verify(T);
    StepVerifier.create(other.maintenance().retentionCleaner().runOnce())
        .expectError(StoreUnavailableException.class).verify(T);
  }

  @Test
  void servicesStopAndStartIdempotently() {
    CountingScheduler timer = new CountingScheduler();
    Store other = connectWithTimer(timer, Duration.ofMinutes(1));
    try {
      assertThat(timer.pending()).as("every service waits for its first turn").isEqualTo(5);
      MaintenanceService<?> rescuer = other.maintenance().leaseRescuer();

      rescuer.stop().block(T);
      rescuer.stop().block(T);
      assertThat(timer.pending()).isEqualTo(4);

      rescuer.start().block(T);
      rescuer.start().block(T);
      assertThat(timer.pending()).isEqualTo(5);
    } finally {
      other.close().block(T);
    }
    assertThat(timer.pending()).isZero();
  }

  @Test
  void nothingRunsAfterClose() {
    CountingScheduler timer = new CountingScheduler();
    Store other = connectWithTimer(timer, Duration.ofMinutes(1));
    StoreDriver otherDriver = ((Engine) other).driver();
    try {
      // Every service takes its turn when its wait ends; then it waits again.
      makeEveryServiceDue(otherDriver);
      timer.advanceTimeBy(Duration.ofMinutes(2));
      awaitState(() -> schedules(otherDriver),
          turns -> turns.values().stream().noneMatch(s -> "test".equals(s.lastInstance())));
      awaitState(timer::pending, n -> n == 5);
    } finally {
      other.close().block(T);
    }
    assertThat(timer.pending()).as("no service waits for a turn once closed").isZero();

    makeEveryServiceDue(driver());
    Map<String, StoreResults.MaintenanceSchedule> before = schedules(driver());
    other.maintenance().leaseRescuer().start().block(T);
    timer.advanceTimeBy(Duration.ofMinutes(10));
    assertThat(timer.pending()).as("starting a closed store's service does nothing").isZero();
    assertThat(schedules(driver())).as("no turn taken after close").isEqualTo(before);
  }

  private Store connectWithTimer(Scheduler timer, Duration interval) {
    return Engine.connect(config().toBuilder().maintenanceInterval(interval).scheduler(timer).build(), Json.newMapper())
        .block(T);
  }

  /**
   * A virtual-time scheduler that counts its pending tasks, so a test can see which maintenance
   * services are waiting for their next turn (each wait is one pending task).
   */
  private static final class CountingScheduler implements Scheduler {
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final AtomicInteger pending = new AtomicInteger();

    int pending() {
      return pending.get();
    }

    void advanceTimeBy(Duration d) {
      time.advanceTimeBy(d);
    }

    @Override
    public Disposable schedule(Runnable task) {
      return schedule(task, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
      AtomicBoolean settled = new AtomicBoolean();
      pending.incrementAndGet();
      Disposable scheduled = time.schedule(() -> {
        if (settled.compareAndSet(false, true)) {
          pending.decrementAndGet();
        }
        task.run();
      }, delay, unit);
      return () -> {
        if (settled.compareAndSet(false, true)) {
          pending.decrementAndGet();
        }
        scheduled.dispose();
      };
    }

    @Override
    public long now(TimeUnit unit) {
      return time.now(unit);
    }

    @Override
    public Worker createWorker() {
      return time.createWorker();
    }
  }

  // ---------------------------------------------------------------- many instances

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

  @Test
  void concurrentServicesProcessEveryRowExactlyOnce() {
    String q = newQueue();
    Instant old = longAgo();
    int workers = 4;
    producer(q).enqueuePayloads(IntStream.range(0, workers * 2).mapToObj(MaintenanceContract::payload).toList())
        .block(T);
    for (int i = 0; i < workers; i++) {
      assertThat(claimFor(staleWorker(q), 2)).hasSize(2);
    }
    archive(q, 7, old);
    deadLetters(q, 7, old);
    for (int i = 0; i < 5; i++) {
      finishedRun(1, 1, old); // its trigger message is archived at the same time
      stoppedWorker(q, old);
      runPastItsDeadline();
    }
    PgqrsConfig smallBatches = config().toBuilder().maintenanceBatchSize(2).build();
    List<Store> stores = new ArrayList<>();
    try {
      for (int i = 0; i < stores(); i++) {
        stores.add(connect(smallBatches));
      }
      int calls = stores.size() * sweepsPerStore();
      List<SweepReport> reports = Flux.range(0, calls)
          .flatMap(i -> stores.get(i % stores.size()).maintenance().runOnce(), calls)
          .collectList()
          .block(Duration.ofMinutes(2));

      assertThat(reports).hasSize(calls);
      Function<java.util.function.ToLongFunction<SweepReport>, Long> total =
          count -> reports.stream().mapToLong(count).sum();
      assertThat(total.apply(SweepReport::workersReclaimed)).isEqualTo(workers);
      assertThat(total.apply(SweepReport::messagesReleased)).isEqualTo(workers * 2L);
      assertThat(total.apply(SweepReport::archivedPurged)).isEqualTo(7 + 5);
      assertThat(total.apply(SweepReport::deadLettersPurged)).isEqualTo(7);
      assertThat(total.apply(SweepReport::runsPurged)).isEqualTo(5);
      assertThat(total.apply(SweepReport::stepsPurged)).isEqualTo(5);
      assertThat(total.apply(SweepReport::signalsPurged)).isEqualTo(5);
      assertThat(total.apply(SweepReport::workersPurged)).isEqualTo(5);
      assertThat(total.apply(SweepReport::runsFailed)).isEqualTo(5);
    } finally {
      stores.forEach(s -> s.close().block(T));
    }
    assertThat(store.archive().list(q, 0, 100).collectList().block(T)).isEmpty();
    assertThat(store.deadLetters().list(q, 0, 100).collectList().block(T)).isEmpty();
  }
}
