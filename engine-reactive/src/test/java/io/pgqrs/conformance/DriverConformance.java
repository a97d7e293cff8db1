package io.pgqrs.conformance;

import io.pgqrs.internal.RunTransitions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.StoreOperationException;
import io.pgqrs.internal.Json;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreDriverProvider;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerAlreadyExistsException;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.WorkflowNotFoundException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The conformance suite of the store SPI: every {@link StoreDriver} operation with its edge cases,
 * written once and run by one subclass per backend, so every backend must give the same results.
 * It talks to the driver directly, opened from the backend's {@link StoreDriverProvider} as the
 * engine opens it, and builds the rows each test needs with {@link Rows}, moving time with the
 * operations' {@code now} override instead of waiting. Instants are whole milliseconds so that every
 * backend stores them exactly. A subclass names a fresh, empty database (or schema); the suite
 * installs pgqrs there once and closes the driver at the end. Each test makes its own queues,
 * workers and workflows, so tests never see each other's rows. The maintenance {@code sweep} is not
 * covered here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DriverConformance {

  /** Upper bound of every blocking wait and StepVerifier of the suite. */
  protected static final Duration T = Rows.TIMEOUT;

  private static final Duration LEASE = Rows.LEASE;
  private static final Duration MS = Duration.ofMillis(1);

  /** The driver under test, installed. */
  protected StoreDriver driver;

  /** The row factory writing through {@link #driver}. */
  protected Rows rows;

  /**
   * The DSN of an empty database (or schema) of the backend under test, used for the whole class.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  @BeforeAll
  void openAndInstall() {
    driver = open(dsn());
    driver.install().block(T);
    rows = new Rows(driver);
  }

  @AfterAll
  void closeDriver() {
    if (driver != null) {
      driver.close().block(T);
    }
  }

  /**
   * Opens a driver for a DSN the way the engine does: the first {@link StoreDriverProvider} found
   * by {@link ServiceLoader} that supports the DSN's backend. Blocks; for test threads only.
   *
   * @param dsn the DSN
   * @return the connected driver, not yet installed
   */
  public static StoreDriver open(String dsn) {
    PgqrsConfig config = PgqrsConfig.builder(dsn).build();
    for (StoreDriverProvider provider : ServiceLoader.load(StoreDriverProvider.class,
        StoreDriver.class.getClassLoader())) {
      if (provider.supports(config.backend())) {
        return provider.open(config).blockOptional(T)
            .orElseThrow(() -> new IllegalStateException("the provider opened no driver for " + config.backend()));
      }
    }
    throw new IllegalStateException("no StoreDriverProvider for the '" + config.backend() + "' backend");
  }

  // ---------------------------------------------------------------- helpers

  /** The test's starting instant: now, in whole milliseconds. */
  private static Instant start() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private static JsonNode json(String text) {
    return Json.parse(text);
  }

  private StoreResults.Claimed claim(String queue, int limit, Instant at) {
    return claim(queue, limit, LEASE, null, at);
  }

  private StoreResults.Claimed claim(String queue, int limit, Duration lease, @Nullable Long workerId, Instant at) {
    return driver.claim(new StoreParams.Claim(queue, limit, lease, workerId, at)).block(T);
  }

  private List<Long> claimedIds(String queue, int limit, Instant at) {
    return ids(claim(queue, limit, at).claimed());
  }

  private static List<Long> ids(List<Message> messages) {
    return messages.stream().map(Message::id).toList();
  }

  private static StoreParams.LeaseRef ref(Message m, Instant at) {
    return new StoreParams.LeaseRef(m.id(), Rows.lease(m), at);
  }

  private static StoreParams.LeaseRef forged(Message m, Instant at) {
    return new StoreParams.LeaseRef(m.id(), UUID.randomUUID(), at);
  }

  private Message find(long id) {
    return rows.find(id);
  }

  private boolean exists(long messageId) {
    return driver.findMessage(messageId).blockOptional(T).isPresent();
  }

  private List<Long> listIds(String queue, MessageState state) {
    return driver.listMessages(new StoreParams.ListMessages(queue, state, 0, 1000)).map(Message::id)
        .collectList().block(T);
  }

  private long enqueueKeyed(String queue, String key, Instant at) {
    return rows.enqueue(queue, new StoreParams.NewRow(Rows.payload(0), null, null, key, 0), at);
  }

  private StoreResults.Enqueued enqueueOne(String queue, StoreParams.NewRow row, Instant at) {
    return driver.enqueue(new StoreParams.Enqueue(queue, List.of(row), at)).block(T).get(0);
  }

  private RunInfo run(long runId) {
    return driver.findRun(runId).blockOptional(T).orElseThrow();
  }

  private List<StepInfo> steps(long runId) {
    return driver.listSteps(runId).collectList().block(T);
  }

  private WorkerInfo worker(long workerId) {
    return driver.findWorker(workerId).blockOptional(T).orElseThrow();
  }

  private WorkerHealth health(WorkerInfo w, Duration staleAfter, Instant at) {
    return driver.workerHealth(new StoreParams.WorkerHealthQuery(staleAfter, at))
        .filter(h -> h.worker().id() == w.id())
        .single()
        .block(T);
  }

  private QueueMetrics metrics(String queue, Instant at) {
    return driver.queueMetrics(new StoreParams.MetricsQuery(queue, at)).single().block(T);
  }

  private @Nullable Duration untilNextVisible(String queue, Instant at) {
    return driver.untilNextVisible(queue, at).block(T);
  }

  private RunInfo control(long runId, StoreParams.RunControl action, Instant at) {
    return driver.controlRun(RunTransitions.control(runId, action,
        action == StoreParams.RunControl.CANCEL ? "stop" : null, at)).block(T);
  }

  private void controlFails(long runId, StoreParams.RunControl action, RunStatus status, Instant at) {
    StepVerifier.create(driver.controlRun(RunTransitions.control(runId, action, null, at)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunStateException.class, r -> {
          assertThat(r.runId()).isEqualTo(runId);
          assertThat(r.status()).isEqualTo(status);
        }))
        .verify(T);
  }

  private @Nullable RunStatus finishRun(long runId, StoreParams.@Nullable LeaseRef lease, RunStatus status,
      @Nullable String output, @Nullable String error, Instant at) {
    return driver.finishRun(new StoreParams.FinishRun(runId, lease, status, RunTransitions.finish(status), output, error, at)).block(T);
  }

  /** The trigger message of a run, found among its workflow queue's messages of a state. */
  private Message triggerMessage(Rows.Run run, MessageState state) {
    return driver.listMessages(new StoreParams.ListMessages(run.workflow(), state, 0, 1000))
        .filter(m -> m.payload().path("run_id").asLong() == run.id())
        .single()
        .block(T);
  }

  // ---------------------------------------------------------------- queues

  @Test
  void createQueueReturnsTheQueueAsStored() {
    Instant t = start();
    String name = Rows.uniqueName("q");
    QueueInfo created = driver.createQueue(new StoreParams.CreateQueue(name, 3, t)).block(T);
    assertThat(created.name()).isEqualTo(name);
    assertThat(created.maxAttempts()).isEqualTo(3);
    assertThat(created.createdAt()).isEqualTo(t);
    assertThat(driver.findQueue(name).block(T)).isEqualTo(created);
  }

  @Test
  void createQueueTwiceFailsWithQueueAlreadyExistsAndKeepsTheFirst() {
    Instant t = start();
    String q = rows.queue(3, t);
    QueueInfo first = driver.findQueue(q).block(T);
    StepVerifier.create(driver.createQueue(new StoreParams.CreateQueue(q, 9, t.plusSeconds(1))))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(QueueAlreadyExistsException.class,
            x -> assertThat(x.queue()).isEqualTo(q)))
        .verify(T);
    assertThat(driver.findQueue(q).block(T)).isEqualTo(first);
  }

  @Test
  void findQueueOfAMissingNameIsEmpty() {
    StepVerifier.create(driver.findQueue(Rows.uniqueName("missing"))).expectComplete().verify(T);
  }

  @Test
  void listQueuesIsOrderedByName() {
    Instant t = start();
    String stem = Rows.uniqueName("list");
    for (String suffix : List.of("_b", "_c", "_a")) {
      driver.createQueue(new StoreParams.CreateQueue(stem + suffix, 1, t)).block(T);
    }
    List<String> names = driver.listQueues().map(QueueInfo::name).filter(n -> n.startsWith(stem))
        .collectList().block(T);
    assertThat(names).containsExactly(stem + "_a", stem + "_b", stem + "_c");
  }

  @Test
  void purgeQueueDeletesOnlyTheLiveMessages() {
    Instant t = start();
    String q = rows.queue(1, t.minusSeconds(60));
    Message dead = rows.deadMessage(q, t.minusSeconds(30));
    Message archived = rows.archivedMessage(q, t.minusSeconds(20));
    Message leased = rows.leasedMessage(q, t.minusSeconds(10));
    Message live = rows.liveMessage(q, t);
    StepVerifier.create(driver.purgeQueue(q)).expectNext(2L).expectComplete().verify(T);
    assertThat(exists(leased.id())).isFalse();
    assertThat(exists(live.id())).isFalse();
    assertThat(find(dead.id())).isEqualTo(dead);
    assertThat(find(archived.id())).isEqualTo(archived);
  }

  @Test
  void purgeQueueOfAnUnknownQueueFailsWithQueueNotFound() {
    StepVerifier.create(driver.purgeQueue(Rows.uniqueName("missing")))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void deleteQueueWithLiveMessagesOrActiveWorkersIsRefused() {
    Instant t = start();
    String busy = rows.queue(t);
    rows.liveMessage(busy, t);
    rows.liveMessage(busy, t);
    rows.worker(busy, t);
    String staffed = rows.queue(t);
    rows.worker(staffed, t);
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(busy, false)).block(T))
        .isEqualTo(new StoreResults.QueueInUse(2, 1));
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(staffed, false)).block(T))
        .isEqualTo(new StoreResults.QueueInUse(0, 1));
    assertThat(driver.findQueue(busy).blockOptional(T)).isPresent();
    assertThat(driver.findQueue(staffed).blockOptional(T)).isPresent();
  }

  @Test
  void deleteQueueWithOnlyFinishedMessagesAndStoppedWorkersIsAllowed() {
    Instant t = start();
    String q = rows.queue(t);
    Message archived = rows.archivedMessage(q, t);
    WorkerInfo w = rows.worker(q, t);
    driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t)).block(T);
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(q, false)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findQueue(q).blockOptional(T)).isEmpty();
    assertThat(exists(archived.id())).isFalse();
  }

  @Test
  void forcedDeleteQueueRemovesItsMessagesAndWorkers() {
    Instant t = start();
    String q = rows.queue(t);
    Message leased = rows.leasedMessage(q, t);
    Message live = rows.liveMessage(q, t);
    WorkerInfo w = rows.worker(q, t);
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(q, true)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findQueue(q).blockOptional(T)).isEmpty();
    assertThat(exists(leased.id())).isFalse();
    assertThat(exists(live.id())).isFalse();
    assertThat(driver.findWorker(w.id()).blockOptional(T)).isEmpty();
  }

  @Test
  void deleteQueueOfAMissingQueueReportsItMissing() {
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(Rows.uniqueName("missing"), true)).block(T))
        .isEqualTo(new StoreResults.QueueMissing());
  }

  // ---------------------------------------------------------------- enqueue

  @Test
  void enqueuedMessageIsStoredLiveWithoutLeaseOrAttempts() {
    Instant t = start();
    String q = rows.queue(t);
    StoreResults.Enqueued e = enqueueOne(q, new StoreParams.NewRow("{\"n\": 1, \"s\": \"x\"}", null, null, "k1", 7), t);
    assertThat(e.inserted()).isTrue();
    assertThat(find(e.id())).isEqualTo(new Message(e.id(), q, json("{\"n\": 1, \"s\": \"x\"}"), MessageState.LIVE,
        7, 0, t, t, null, null, "k1", null, null, null));
  }

  @Test
  void enqueuedHeadersAreStoredAsGivenAndReadBackByFindAndClaim() {
    Instant t = start();
    String q = rows.queue(t);
    List<StoreResults.Enqueued> result = driver.enqueue(new StoreParams.Enqueue(q, List.of(
        new StoreParams.NewRow(Rows.payload(1), null, null, null, 0, null,
            "{\"traceparent\": \"00-ab-cd-01\", \"q\": \"it's \\\"x\\\"\"}"),
        new StoreParams.NewRow(Rows.payload(2), null, null, null, 0, null, null)), t)).block(T);
    assertThat(find(result.get(0).id()).headers())
        .isEqualTo(java.util.Map.of("traceparent", "00-ab-cd-01", "q", "it's \"x\""));
    assertThat(find(result.get(1).id()).headers()).isEmpty();
    assertThat(claim(q, 2, t).claimed()).extracting(Message::headers)
        .containsExactly(java.util.Map.of("traceparent", "00-ab-cd-01", "q", "it's \"x\""), java.util.Map.of());
  }

  @Test
  void enqueueReturnsAscendingIdsInInputOrder() {
    Instant t = start();
    String q = rows.queue(t);
    List<StoreResults.Enqueued> result = driver.enqueue(new StoreParams.Enqueue(q,
        List.of(Rows.row(1), Rows.row(2), Rows.row(3)), t)).block(T);
    assertThat(result).hasSize(3).allMatch(StoreResults.Enqueued::inserted);
    List<Long> ids = result.stream().map(StoreResults.Enqueued::id).toList();
    assertThat(ids).isSorted().doesNotHaveDuplicates();
    assertThat(ids.stream().map(id -> find(id).payload().get("n").asInt()).toList()).containsExactly(1, 2, 3);
  }

  @Test
  void enqueueWithADelayIsVisibleAfterTheDelay() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.delayedMessage(q, t, Duration.ofSeconds(90));
    assertThat(m.enqueuedAt()).isEqualTo(t);
    assertThat(m.visibleAt()).isEqualTo(t.plusSeconds(90));
  }

  @Test
  void enqueueAtAFutureInstantIsVisibleThen() {
    Instant t = start();
    String q = rows.queue(t);
    long id = rows.enqueue(q, new StoreParams.NewRow(Rows.payload(0), null, t.plusSeconds(3600), null, 0), t);
    assertThat(find(id).visibleAt()).isEqualTo(t.plusSeconds(3600));
  }

  @Test
  void enqueueAtAPastInstantIsVisibleAtOnce() {
    Instant t = start();
    String q = rows.queue(t);
    long id = rows.enqueue(q, new StoreParams.NewRow(Rows.payload(0), null, t.minusSeconds(3600), null, 0), t);
    assertThat(find(id).visibleAt()).isEqualTo(t);
    assertThat(claimedIds(q, 1, t)).containsExactly(id);
  }

  @Test
  void enqueueIntoAnUnknownQueueFailsWithQueueNotFound() {
    String q = Rows.uniqueName("missing");
    StepVerifier.create(driver.enqueue(new StoreParams.Enqueue(q, List.of(Rows.row(1)), null)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(QueueNotFoundException.class,
            x -> assertThat(x.queue()).isEqualTo(q)))
        .verify(T);
  }

  @Test
  void enqueueIsAllOrNone() {
    Instant t = start();
    String q = rows.queue(t);
    // The engine never passes a null payload; here it is the one row the database refuses (NOT
    // NULL), after a row it accepted.
    List<StoreParams.NewRow> batch = List.of(Rows.row(1), new StoreParams.NewRow(null, null, null, null, 0),
        Rows.row(3));
    StepVerifier.create(driver.enqueue(new StoreParams.Enqueue(q, batch, t)))
        .expectError(StoreOperationException.class)
        .verify(T);
    assertThat(listIds(q, MessageState.LIVE)).isEmpty();
    assertThat(metrics(q, t).live()).isZero();
  }

  @Test
  void enqueueWithTheKeyOfALiveMessageReturnsThatMessage() {
    Instant t = start();
    String q = rows.queue(t);
    long first = enqueueKeyed(q, "order-1", t);
    StoreResults.Enqueued again = enqueueOne(q, new StoreParams.NewRow(Rows.payload(9), null, null, "order-1", 3),
        t.plusSeconds(1));
    assertThat(again).isEqualTo(new StoreResults.Enqueued(first, false));
    assertThat(listIds(q, MessageState.LIVE)).containsExactly(first);
    assertThat(find(first).priority()).isZero();
  }

  @Test
  void aKeyRepeatedInOneBatchInsertsOnlyItsFirstRow() {
    Instant t = start();
    String q = rows.queue(t);
    List<StoreResults.Enqueued> result = driver.enqueue(new StoreParams.Enqueue(q, List.of(
        new StoreParams.NewRow(Rows.payload(1), null, null, "k", 0),
        Rows.row(2),
        new StoreParams.NewRow(Rows.payload(3), null, null, "k", 0)), t)).block(T);
    long keyed = result.get(0).id();
    long plain = result.get(1).id();
    assertThat(result).containsExactly(new StoreResults.Enqueued(keyed, true), new StoreResults.Enqueued(plain, true),
        new StoreResults.Enqueued(keyed, false));
    assertThat(keyed).isLessThan(plain);
    assertThat(listIds(q, MessageState.LIVE)).containsExactly(keyed, plain);
  }

  @Test
  void theKeyOfALeasedMessageStillDeduplicates() {
    Instant t = start();
    String q = rows.queue(t);
    long id = enqueueKeyed(q, "k", t);
    claim(q, 1, t);
    assertThat(enqueueOne(q, new StoreParams.NewRow(Rows.payload(1), null, null, "k", 0), t.plusSeconds(1)))
        .isEqualTo(new StoreResults.Enqueued(id, false));
  }

  @Test
  void theKeyOfAnArchivedMessageCanBeReused() {
    Instant t = start();
    String q = rows.queue(t);
    long first = enqueueKeyed(q, "k", t);
    Message m = claim(q, 1, t).claimed().get(0);
    driver.archive(ref(m, t.plusSeconds(1))).block(T);
    StoreResults.Enqueued again = enqueueOne(q, new StoreParams.NewRow(Rows.payload(1), null, null, "k", 0),
        t.plusSeconds(2));
    assertThat(again.inserted()).isTrue();
    assertThat(again.id()).isGreaterThan(first);
    assertThat(find(again.id()).dedupKey()).isEqualTo("k");
  }

  @Test
  void theKeyOfADeadMessageCanBeReused() {
    Instant t = start();
    String q = rows.queue(t);
    long first = enqueueKeyed(q, "k", t);
    Message m = claim(q, 1, t).claimed().get(0);
    driver.deadLetter(new StoreParams.DeadLetter(ref(m, t.plusSeconds(1)), "bad")).block(T);
    StoreResults.Enqueued again = enqueueOne(q, new StoreParams.NewRow(Rows.payload(1), null, null, "k", 0),
        t.plusSeconds(2));
    assertThat(again.inserted()).isTrue();
    assertThat(again.id()).isGreaterThan(first);
  }

  @Test
  void dedupKeysAreScopedToTheirQueue() {
    Instant t = start();
    String a = rows.queue(t);
    String b = rows.queue(t);
    long inA = enqueueKeyed(a, "k", t);
    StoreResults.Enqueued inB = enqueueOne(b, new StoreParams.NewRow(Rows.payload(0), null, null, "k", 0), t);
    assertThat(inB.inserted()).isTrue();
    assertThat(inB.id()).isNotEqualTo(inA);
  }

  // ---------------------------------------------------------------- claim

  @Test
  void claimLeasesTheMessageToTheWorker() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    Message live = rows.liveMessage(q, t);
    StoreResults.Claimed c = claim(q, 1, LEASE, w.id(), t.plusSeconds(1));
    assertThat(c.deadLettered()).isEmpty();
    assertThat(c.claimed()).hasSize(1);
    Message m = c.claimed().get(0);
    assertThat(m.leaseToken()).isNotNull();
    assertThat(m).isEqualTo(new Message(live.id(), q, live.payload(), MessageState.LIVE, 0, 1, t,
        t.plusSeconds(1).plus(LEASE), m.leaseToken(), w.id(), null, null, null, null));
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void claimWithoutAWorkerLeavesTheLeaseUnowned() {
    Instant t = start();
    String q = rows.queue(t);
    rows.liveMessage(q, t);
    Message m = claim(q, 1, t).claimed().get(0);
    assertThat(m.leaseOwner()).isNull();
    assertThat(m.leaseToken()).isNotNull();
  }

  @Test
  void eachClaimGivesANewToken() {
    Instant t = start();
    String q = rows.queue(t);
    Message first = rows.expiredLease(q, t);
    Message second = claim(q, 1, t).claimed().get(0);
    Message third = claim(q, 1, t.plus(LEASE)).claimed().get(0);
    assertThat(List.of(first.leaseToken(), second.leaseToken(), third.leaseToken())).doesNotHaveDuplicates();
  }

  @Test
  void claimTakesHigherPriorityFirst() {
    Instant t = start();
    String q = rows.queue(t);
    Message low = rows.liveMessage(q, t, 0);
    Message high = rows.liveMessage(q, t, 5);
    Message middle = rows.liveMessage(q, t, 1);
    assertThat(claimedIds(q, 1, t)).containsExactly(high.id());
    assertThat(claimedIds(q, 5, t)).containsExactly(middle.id(), low.id());
  }

  @Test
  void claimOrderIsPriorityThenVisibleAtThenId() {
    Instant t = start();
    String q = rows.queue(t);
    Message later = rows.delayedMessage(q, t, Duration.ofSeconds(10));
    Message sooner = rows.liveMessage(q, t);
    long urgent = rows.enqueue(q, new StoreParams.NewRow(Rows.payload(5), Duration.ofSeconds(5), null, null, 5), t);
    // The later message has the lower id but the later visibility: visibility comes before id.
    assertThat(later.id()).isLessThan(sooner.id());
    assertThat(claimedIds(q, 3, t.plusSeconds(20))).containsExactly(urgent, sooner.id(), later.id());
  }

  @Test
  void claimOfOneTakesTheEarliestVisibleMessageEvenWithAHigherId() {
    Instant t = start();
    String q = rows.queue(t);
    Message later = rows.delayedMessage(q, t, Duration.ofSeconds(10));
    Message sooner = rows.liveMessage(q, t);
    assertThat(later.id()).isLessThan(sooner.id());
    assertThat(claimedIds(q, 1, t.plusSeconds(20))).containsExactly(sooner.id());
    assertThat(claimedIds(q, 1, t.plusSeconds(20))).containsExactly(later.id());
  }

  @Test
  void messagesOfEqualPriorityAndVisibilityAreClaimedInIdOrder() {
    Instant t = start();
    String q = rows.queue(t);
    List<Long> ids = driver.enqueue(new StoreParams.Enqueue(q, List.of(Rows.row(1), Rows.row(2), Rows.row(3)), t))
        .block(T).stream().map(StoreResults.Enqueued::id).toList();
    assertThat(claimedIds(q, 3, t)).containsExactlyElementsOf(ids);
  }

  @Test
  void claimHonoursTheLimit() {
    Instant t = start();
    String q = rows.queue(t);
    List<Long> ids = driver.enqueue(new StoreParams.Enqueue(q,
            List.of(Rows.row(1), Rows.row(2), Rows.row(3), Rows.row(4), Rows.row(5)), t))
        .block(T).stream().map(StoreResults.Enqueued::id).toList();
    assertThat(claimedIds(q, 2, t)).containsExactlyElementsOf(ids.subList(0, 2));
    assertThat(claimedIds(q, 10, t)).containsExactlyElementsOf(ids.subList(2, 5));
    // Nothing taken; what is left is the five leased messages, visible again when their leases end.
    assertThat(claim(q, 10, t)).isEqualTo(new StoreResults.Claimed(List.of(), List.of(), LEASE));
  }

  @Test
  void aClaimTellsWhatItLeft() {
    Instant t = start();
    String q = rows.queue(t);
    driver.enqueue(new StoreParams.Enqueue(q, List.of(Rows.row(1), Rows.row(2), Rows.row(3)), t)).block(T);
    rows.delayedMessage(q, t, Duration.ofSeconds(10));
    assertThat(claim(q, 1, t).untilNextVisible()).as("two visible messages left").isEqualTo(Duration.ZERO);
    StoreResults.Claimed rest = claim(q, 10, t);
    assertThat(rest.claimed()).hasSize(2);
    assertThat(rest.untilNextVisible()).as("the delayed message, before any lease ends").isEqualTo(Duration.ofSeconds(10));
    assertThat(claim(q, 10, t.plusSeconds(1)).untilNextVisible()).isEqualTo(Duration.ofSeconds(9));
  }

  @Test
  void delayedMessageIsClaimableFromItsVisibleInstantOn() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.delayedMessage(q, t, Duration.ofSeconds(10));
    assertThat(claimedIds(q, 1, t.plusSeconds(10).minus(MS))).isEmpty();
    assertThat(claimedIds(q, 1, t.plusSeconds(10))).containsExactly(m.id());
  }

  @Test
  void leaseHoldsUntilItsExpiryInstant() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant expiry = t.plus(LEASE);
    assertThat(claimedIds(q, 1, expiry.minus(MS))).isEmpty();
    assertThat(driver.archive(ref(m, expiry)).block(T)).isFalse();
    List<Message> again = claim(q, 1, expiry).claimed();
    assertThat(ids(again)).containsExactly(m.id());
    assertThat(again.get(0).attempts()).isEqualTo(2);
  }

  @Test
  void expiredLeaseIsReclaimedWithAttemptsIncremented() {
    Instant t = start();
    String q = rows.queue(t);
    Message expired = rows.expiredLease(q, t);
    Message again = claim(q, 1, t).claimed().get(0);
    assertThat(again.id()).isEqualTo(expired.id());
    assertThat(again.attempts()).isEqualTo(2);
    assertThat(again.leaseToken()).isNotEqualTo(expired.leaseToken());
    assertThat(again.visibleAt()).isEqualTo(t.plus(LEASE));
  }

  @Test
  void claimOfAnEmptyQueueClaimsNothing() {
    Instant t = start();
    String q = rows.queue(t);
    assertThat(claim(q, 5, t)).isEqualTo(new StoreResults.Claimed(List.of(), List.of()));
  }

  @Test
  void claimOfAnUnknownQueueFailsWithQueueNotFound() {
    StepVerifier.create(driver.claim(new StoreParams.Claim(Rows.uniqueName("missing"), 1, LEASE, null, null)))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void exhaustedMessageIsDeadLetteredByTheClaimInsteadOfDelivered() {
    Instant t = start();
    String q = rows.queue(2, t);
    Message live = rows.liveMessage(q, t);
    Duration second = Duration.ofSeconds(1);
    assertThat(claim(q, 1, second, null, t).claimed()).extracting(Message::attempts).containsExactly(1);
    assertThat(claim(q, 1, second, null, t.plusSeconds(1)).claimed()).extracting(Message::attempts).containsExactly(2);
    StoreResults.Claimed third = claim(q, 1, second, null, t.plusSeconds(2));
    assertThat(third.claimed()).isEmpty();
    Message dead = new Message(live.id(), q, live.payload(), MessageState.DEAD, 0, 2, t, t.plusSeconds(2), null, null,
        null, "max attempts reached", null, t.plusSeconds(2));
    assertThat(third.deadLettered()).containsExactly(dead);
    assertThat(find(live.id())).isEqualTo(dead);
    assertThat(claim(q, 1, t.plusSeconds(3)).claimed()).isEmpty();
  }

  @Test
  void messageOneAttemptShortOfTheMaxIsStillDelivered() {
    Instant t = start();
    String q = rows.queue(3, t);
    Message live = rows.liveMessage(q, t);
    Duration second = Duration.ofSeconds(1);
    claim(q, 1, second, null, t);
    claim(q, 1, second, null, t.plusSeconds(1));
    StoreResults.Claimed last = claim(q, 1, second, null, t.plusSeconds(2));
    assertThat(last.deadLettered()).isEmpty();
    assertThat(last.claimed()).extracting(Message::id, Message::attempts).containsExactly(
        tuple(live.id(), 3));
    assertThat(ids(claim(q, 1, second, null, t.plusSeconds(3)).deadLettered())).containsExactly(live.id());
  }

  @Test
  void deadLetteringByTheClaimKeepsTheLastError() {
    Instant t = start();
    String q = rows.queue(1, t);
    Message m = rows.leasedMessage(q, t);
    driver.release(new StoreParams.Release(ref(m, t.plusSeconds(1)), Duration.ZERO, "boom")).block(T);
    StoreResults.Claimed c = claim(q, 1, t.plusSeconds(1));
    assertThat(c.deadLettered()).extracting(Message::lastError).containsExactly("boom");
  }

  @Test
  void claimDeliversFreshMessagesWhileDeadLetteringExhaustedOnes() {
    Instant t = start();
    String q = rows.queue(1, t);
    Message exhausted = rows.leasedMessage(q, Duration.ofSeconds(1), null, t);
    Message fresh = rows.liveMessage(q, t.plusSeconds(2));
    StoreResults.Claimed c = claim(q, 5, t.plusSeconds(3));
    assertThat(ids(c.claimed())).containsExactly(fresh.id());
    assertThat(ids(c.deadLettered())).containsExactly(exhausted.id());
  }

  @Test
  void exhaustedMessagesCountAgainstTheClaimLimit() {
    Instant t = start();
    String q = rows.queue(1, t);
    Message exhausted = rows.leasedMessage(q, Duration.ofSeconds(1), null, t);
    Message fresh = rows.liveMessage(q, t.plusSeconds(2));
    StoreResults.Claimed c = claim(q, 1, t.plusSeconds(3));
    assertThat(c.claimed()).isEmpty();
    assertThat(ids(c.deadLettered())).containsExactly(exhausted.id());
    assertThat(claimedIds(q, 1, t.plusSeconds(3))).containsExactly(fresh.id());
  }

  private String limitedQueue(int maxLeased, Instant t) {
    String q = Rows.uniqueName("q");
    QueueInfo created = driver.createQueue(new StoreParams.CreateQueue(q, Rows.MAX_ATTEMPTS, maxLeased, null, t))
        .block(T);
    assertThat(created.maxLeased()).isEqualTo(maxLeased);
    return q;
  }

  @Test
  void aClaimOnALimitedQueueLeasesNoMoreThanTheLimitLessTheLiveLeases() {
    Instant t = start();
    String q = limitedQueue(3, t);
    List<Long> ids = driver.enqueue(new StoreParams.Enqueue(q,
            IntStream.range(0, 6).mapToObj(Rows::row).toList(), t))
        .block(T).stream().map(StoreResults.Enqueued::id).toList();
    assertThat(claimedIds(q, 2, t)).containsExactlyElementsOf(ids.subList(0, 2));
    StoreResults.Claimed toTheLimit = claim(q, 10, t);
    assertThat(ids(toTheLimit.claimed())).containsExactly(ids.get(2));
    // Three messages are left visible, but none can be taken before the first lease ends.
    assertThat(toTheLimit.untilNextVisible()).isEqualTo(LEASE);
    StoreResults.Claimed atTheLimit = claim(q, 10, t.plusSeconds(1));
    assertThat(atTheLimit.claimed()).isEmpty();
    assertThat(atTheLimit.untilNextVisible()).isEqualTo(LEASE.minusSeconds(1));
  }

  @Test
  void aSettledOrExpiredLeaseFreesItsSlotOnALimitedQueue() {
    Instant t = start();
    String q = limitedQueue(2, t);
    driver.enqueue(new StoreParams.Enqueue(q, IntStream.range(0, 5).mapToObj(Rows::row).toList(), t)).block(T);
    Message first = claim(q, 1, t).claimed().get(0);
    claim(q, 1, t.plusSeconds(5));
    assertThat(claim(q, 5, t.plusSeconds(6)).claimed()).isEmpty();
    assertThat(driver.archive(new StoreParams.LeaseRef(first.id(), Rows.lease(first), t.plusSeconds(6))).block(T))
        .isTrue();
    assertThat(claim(q, 5, t.plusSeconds(6)).claimed()).as("the archived message's slot").hasSize(1);
    // The lease taken at t + 5s ends first; its message comes back at its place and takes the slot.
    Instant afterExpiry = t.plusSeconds(5).plus(LEASE).plusMillis(500);
    StoreResults.Claimed again = claim(q, 5, afterExpiry);
    assertThat(again.claimed()).hasSize(1);
    assertThat(again.claimed().get(0).attempts()).isEqualTo(2);
  }

  @Test
  void aClaimOnARateLimitedQueueTakesNoMoreThanItsTokensAndTellsWhenTheNextIsDue() {
    Instant t = start();
    String q = Rows.uniqueName("q");
    assertThat(driver.createQueue(new StoreParams.CreateQueue(q, Rows.MAX_ATTEMPTS, null, 2, t)).block(T)
        .maxClaimsPerSecond()).isEqualTo(2);
    driver.enqueue(new StoreParams.Enqueue(q, IntStream.range(0, 10).mapToObj(Rows::row).toList(), t)).block(T);
    StoreResults.Claimed burst = claim(q, 10, t);
    assertThat(burst.claimed()).as("the full bucket: one second's claims").hasSize(2);
    assertThat(burst.untilNextVisible()).as("the next token").isEqualTo(Duration.ofMillis(500));
    StoreResults.Claimed empty = claim(q, 10, t.plusMillis(100));
    assertThat(empty.claimed()).isEmpty();
    assertThat(empty.untilNextVisible()).isEqualTo(Duration.ofMillis(400));
    assertThat(claim(q, 10, t.plusMillis(500)).claimed()).hasSize(1);
    // A long quiet spell fills the bucket to one second's claims, no more.
    assertThat(claim(q, 10, t.plusSeconds(60)).claimed()).hasSize(2);
    QueueInfo unlimited = driver.configureQueue(new StoreParams.ConfigureQueue(q, null, null, null)).block(T);
    assertThat(unlimited.maxClaimsPerSecond()).isNull();
    assertThat(claim(q, 10, t.plusSeconds(60)).claimed()).as("all but the two just leased; the others' leases ended")
        .hasSize(8);
  }

  @Test
  void configureQueueChangesTheLimitForTheNextClaim() {
    Instant t = start();
    String q = rows.queue(t);
    driver.enqueue(new StoreParams.Enqueue(q, IntStream.range(0, 8).mapToObj(Rows::row).toList(), t)).block(T);
    QueueInfo limited = driver.configureQueue(new StoreParams.ConfigureQueue(q, null, 2)).block(T);
    assertThat(limited.maxLeased()).isEqualTo(2);
    assertThat(limited.maxAttempts()).as("kept").isEqualTo(Rows.MAX_ATTEMPTS);
    assertThat(driver.findQueue(q).block(T)).isEqualTo(limited);
    assertThat(claim(q, 10, t).claimed()).hasSize(2);
    assertThat(driver.configureQueue(new StoreParams.ConfigureQueue(q, 7, 5)).block(T).maxAttempts()).isEqualTo(7);
    assertThat(claim(q, 10, t).claimed()).hasSize(3);
    assertThat(driver.configureQueue(new StoreParams.ConfigureQueue(q, null, null)).block(T).maxLeased()).isNull();
    assertThat(claim(q, 10, t).claimed()).as("no limit").hasSize(3);
    assertThat(driver.configureQueue(new StoreParams.ConfigureQueue(Rows.uniqueName("q"), null, 1)).blockOptional(T))
        .isEmpty();
  }

  /** A queue with per-key fairness: at most {@code perKey} leased per group key. */
  private String perKeyQueue(int perKey, Instant t) {
    String q = Rows.uniqueName("q");
    QueueInfo created = driver.createQueue(new StoreParams.CreateQueue(q, Rows.MAX_ATTEMPTS, null, null, t, perKey))
        .block(T);
    assertThat(created.maxLeasedPerKey()).isEqualTo(perKey);
    assertThat(driver.findQueue(q).block(T)).isEqualTo(created);
    return q;
  }

  /** Enqueues one message per key given, in order (null: no group key); their ids. */
  private List<Long> enqueueGrouped(String q, Instant t, @Nullable String... keys) {
    List<StoreParams.NewRow> batch = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      batch.add(new StoreParams.NewRow(Rows.payload(i), null, null, null, 0, keys[i]));
    }
    return driver.enqueue(new StoreParams.Enqueue(q, batch, t)).block(T).stream()
        .map(StoreResults.Enqueued::id).toList();
  }

  @Test
  void aFairClaimTakesTheFirstMessageOfEveryKeyBeforeTheSecondOfAny() {
    Instant t = start();
    String q = perKeyQueue(5, t);
    List<Long> ids = enqueueGrouped(q, t, "a", "a", "a", "a", "b", null, "b", "c");
    StoreResults.Claimed claimed = claim(q, 10, t);
    // Keys in the order of their first message (a, b, no key, c), then each key's next, in turn.
    assertThat(ids(claimed.claimed())).containsExactly(ids.get(0), ids.get(4), ids.get(5), ids.get(7),
        ids.get(1), ids.get(6), ids.get(2), ids.get(3));
    assertThat(claimed.claimed()).extracting(Message::groupKey)
        .containsExactly("a", "b", null, "c", "a", "b", "a", "a");
    assertThat(claimed.untilNextVisible()).as("nothing left").isNull();
    assertThat(find(ids.get(4)).groupKey()).isEqualTo("b");
    assertThat(find(ids.get(5)).groupKey()).isNull();
  }

  @Test
  void aFairClaimOrdersTheKeysByTheirFirstClaimableMessageAndStopsAtTheClaimSize() {
    Instant t = start();
    String q = perKeyQueue(5, t);
    List<Long> ids = enqueueGrouped(q, t, "x", "x", "y", "z");
    driver.enqueue(new StoreParams.Enqueue(q,
        List.of(new StoreParams.NewRow(Rows.payload(9), null, null, null, 5, "z")), t)).block(T);
    // z's priority-5 message is the first in claim order, so z goes first; then x, then y.
    StoreResults.Claimed two = claim(q, 2, t);
    assertThat(two.claimed()).extracting(Message::groupKey).containsExactly("z", "x");
    assertThat(two.untilNextVisible()).as("more to claim").isEqualTo(Duration.ZERO);
    assertThat(claim(q, 10, t).claimed()).extracting(Message::id)
        .containsExactly(ids.get(1), ids.get(2), ids.get(3));
  }

  @Test
  void aFairClaimLeasesNoMoreThanTheLimitPerKeyAndAFreedLeaseLetsTheKeyClaimAgain() {
    Instant t = start();
    String q = perKeyQueue(2, t);
    List<Long> ids = enqueueGrouped(q, t, "a", "a", "a", "a", "b");
    StoreResults.Claimed first = claim(q, 10, t);
    assertThat(ids(first.claimed())).containsExactly(ids.get(0), ids.get(4), ids.get(1));
    // a's two left are visible, but a is at its limit until a lease ends.
    assertThat(first.untilNextVisible()).isEqualTo(LEASE);
    StoreResults.Claimed atTheLimit = claim(q, 10, t.plusSeconds(1));
    assertThat(atTheLimit.claimed()).isEmpty();
    assertThat(atTheLimit.untilNextVisible()).isEqualTo(LEASE.minusSeconds(1));
    Message a0 = first.claimed().get(0);
    assertThat(driver.archive(ref(a0, t.plusSeconds(1))).block(T)).isTrue();
    assertThat(claimedIds(q, 10, t.plusSeconds(1))).as("the archived lease's slot").containsExactly(ids.get(2));
    assertThat(claim(q, 10, t.plusSeconds(1)).claimed()).isEmpty();
    // Every lease ends: a's last message and the expired one of a (back at its place) are due.
    Instant afterExpiry = t.plusSeconds(1).plus(LEASE).plusMillis(500);
    StoreResults.Claimed again = claim(q, 10, afterExpiry);
    assertThat(again.claimed()).extracting(Message::groupKey).containsExactly("a", "b", "a");
    assertThat(ids(again.claimed())).containsExactly(ids.get(1), ids.get(4), ids.get(2));
  }

  @Test
  void theMessagesWithoutAGroupKeyAreOneGroupUnderTheLimitPerKey() {
    Instant t = start();
    String q = perKeyQueue(1, t);
    List<Long> ids = enqueueGrouped(q, t, null, null, null, "x", "x");
    assertThat(ids(claim(q, 10, t).claimed())).containsExactly(ids.get(0), ids.get(3));
    assertThat(claim(q, 10, t).claimed()).isEmpty();
  }

  @Test
  void configureQueueSetsAndRemovesTheLimitPerKey() {
    Instant t = start();
    String q = rows.queue(t);
    List<Long> ids = enqueueGrouped(q, t, "a", "a", "a", "b");
    QueueInfo fair = driver.configureQueue(new StoreParams.ConfigureQueue(q, null, null, null, 1)).block(T);
    assertThat(fair.maxLeasedPerKey()).isEqualTo(1);
    assertThat(driver.findQueue(q).block(T)).isEqualTo(fair);
    assertThat(ids(claim(q, 10, t).claimed())).containsExactly(ids.get(0), ids.get(3));
    QueueInfo plain = driver.configureQueue(new StoreParams.ConfigureQueue(q, null, null, null, null)).block(T);
    assertThat(plain.maxLeasedPerKey()).isNull();
    assertThat(ids(claim(q, 10, t).claimed())).as("no limit per key").containsExactly(ids.get(1), ids.get(2));
  }

  @Test
  void aGroupKeyAndALimitPerKeyAreValidated() {
    io.pgqrs.queue.NewMessage m = io.pgqrs.queue.NewMessage.of(json("{}"));
    assertThat(m.withGroupKey("tenant-1").groupKey()).isEqualTo("tenant-1");
    assertThat(m.withGroupKey("k".repeat(256)).groupKey()).hasSize(256);
    for (String bad : new String[] {"", "  ", "k".repeat(257), "a\u0000b", "a\nb", null}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.withGroupKey(bad))
          .isInstanceOf(InvalidArgumentException.class);
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.pgqrs.queue.QueueOptions.builder().maxLeasedPerKey(0))
        .isInstanceOf(InvalidArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new io.pgqrs.queue.QueueOptions(null, null, null,
            io.pgqrs.queue.QueueOptions.MAX_LEASED_PER_KEY_LIMIT + 1))
        .isInstanceOf(InvalidArgumentException.class);
    assertThat(io.pgqrs.queue.QueueOptions.builder().maxLeasedPerKey(3).build().maxLeasedPerKey()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- lease operations

  @Test
  void archiveWithTheLeaseArchivesOnce() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.archive(ref(m, at)).block(T)).isTrue();
    assertThat(driver.archive(ref(m, at)).block(T)).isFalse();
    Message archived = find(m.id());
    assertThat(archived.state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(archived.archivedAt()).isEqualTo(at);
    assertThat(archived.attempts()).isEqualTo(1);
    assertThat(archived.deadAt()).isNull();
    assertThat(claimedIds(q, 1, t.plus(LEASE).plusSeconds(1))).isEmpty();
  }

  @Test
  void archiveIsFencedByTheTokenAndTheExpiry() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.archive(forged(m, t.plusSeconds(1))).block(T)).isFalse();
    assertThat(driver.archive(ref(m, t.plus(LEASE).plus(MS))).block(T)).isFalse();
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void deleteIsFencedByTheTokenAndTheExpiry() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.delete(forged(m, t.plusSeconds(1))).block(T)).isFalse();
    assertThat(driver.delete(ref(m, t.plus(LEASE).plus(MS))).block(T)).isFalse();
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void releaseIsFencedByTheTokenAndTheExpiry() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.release(new StoreParams.Release(forged(m, t.plusSeconds(1)), Duration.ZERO, "x")).block(T))
        .isFalse();
    assertThat(driver.release(new StoreParams.Release(ref(m, t.plus(LEASE).plus(MS)), Duration.ZERO, "x")).block(T))
        .isFalse();
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void extendIsFencedByTheTokenAndTheExpiry() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    StepVerifier.create(driver.extend(new StoreParams.Extend(forged(m, t.plusSeconds(1)), Duration.ofMinutes(5))))
        .expectComplete().verify(T);
    StepVerifier.create(driver.extend(new StoreParams.Extend(ref(m, t.plus(LEASE).plus(MS)), Duration.ofMinutes(5))))
        .expectComplete().verify(T);
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void deadLetterIsFencedByTheTokenAndTheExpiry() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.deadLetter(new StoreParams.DeadLetter(forged(m, t.plusSeconds(1)), "x")).block(T)).isFalse();
    assertThat(driver.deadLetter(new StoreParams.DeadLetter(ref(m, t.plus(LEASE).plus(MS)), "x")).block(T)).isFalse();
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void aStaleHolderCannotTouchTheNewHoldersLease() {
    Instant t = start();
    String q = rows.queue(t);
    Message old = rows.expiredLease(q, t);
    Message current = claim(q, 1, t).claimed().get(0);
    StoreParams.LeaseRef stale = ref(old, t.plusSeconds(1));
    assertThat(driver.archive(stale).block(T)).isFalse();
    assertThat(driver.delete(stale).block(T)).isFalse();
    assertThat(driver.release(new StoreParams.Release(stale, Duration.ZERO, "x")).block(T)).isFalse();
    assertThat(driver.extend(new StoreParams.Extend(stale, Duration.ofMinutes(5))).blockOptional(T)).isEmpty();
    assertThat(driver.deadLetter(new StoreParams.DeadLetter(stale, "x")).block(T)).isFalse();
    assertThat(find(current.id())).isEqualTo(current);
    assertThat(driver.archive(ref(current, t.plusSeconds(1))).block(T)).isTrue();
  }

  @Test
  void archiveManyWithSomeStaleTokensArchivesOnlyTheValidOnes() {
    Instant t = start();
    String q = rows.queue(t);
    driver.enqueue(new StoreParams.Enqueue(q, List.of(Rows.row(1), Rows.row(2), Rows.row(3)), t)).block(T);
    List<Message> first = claim(q, 3, t).claimed();
    List<Message> second = claim(q, 3, t.plus(LEASE)).claimed();
    assertThat(ids(second)).isEqualTo(ids(first));
    Instant at = t.plus(LEASE).plusSeconds(1);
    int archived = driver.archiveMany(new StoreParams.ArchiveMany(
        List.of(ref(first.get(0), at), ref(second.get(1), at), ref(first.get(2), at)), at)).block(T);
    assertThat(archived).isEqualTo(1);
    assertThat(find(second.get(1).id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(find(second.get(0).id())).isEqualTo(second.get(0));
    assertThat(find(second.get(2).id())).isEqualTo(second.get(2));
  }

  @Test
  void archiveManySkipsForgedTokensAndExpiredLeases() {
    Instant t = start();
    String q = rows.queue(t);
    Message shortLease = rows.leasedMessage(q, Duration.ofSeconds(1), null, t);
    Message held = rows.leasedMessage(q, t);
    Message forgedOne = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(2);
    int archived = driver.archiveMany(new StoreParams.ArchiveMany(
        List.of(ref(held, at), forged(forgedOne, at), ref(shortLease, at)), at)).block(T);
    assertThat(archived).isEqualTo(1);
    assertThat(find(held.id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(find(forgedOne.id())).isEqualTo(forgedOne);
    assertThat(find(shortLease.id())).isEqualTo(shortLease);
  }

  @Test
  void archiveManyCountsARepeatedLeaseOnce() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.archiveMany(new StoreParams.ArchiveMany(List.of(ref(m, at), ref(m, at)), at)).block(T))
        .isEqualTo(1);
    assertThat(driver.archiveMany(new StoreParams.ArchiveMany(List.of(), at)).block(T)).isZero();
  }

  private static StoreParams.Settle archiveOf(Message m) {
    return StoreParams.Settle.archive(m.id(), Rows.lease(m));
  }

  private List<StoreResults.Settled> settleMany(Instant at, StoreParams.Settle... settles) {
    return driver.settleMany(new StoreParams.SettleMany(List.of(settles), at)).block(T);
  }

  @Test
  void claimAndSettleSettlesEachFencedByItsLeaseAndClaimsWhatIsVisible() {
    Instant t = start();
    String q = rows.queue(t);
    Message held = rows.leasedMessage(q, t);
    Message forgedOne = rows.leasedMessage(q, t);
    Message toRelease = rows.leasedMessage(q, t);
    long visible = rows.enqueue(q, Rows.row(1), t);
    long later = rows.enqueue(q, Rows.row(2), t);
    Instant at = t.plusSeconds(2);
    StoreResults.ClaimedAndSettled r = driver.claimAndSettle(new StoreParams.Claim(q, 1, LEASE, null, at),
        new StoreParams.SettleMany(List.of(archiveOf(held), StoreParams.Settle.archive(forgedOne.id(), UUID.randomUUID()),
            StoreParams.Settle.release(toRelease.id(), Rows.lease(toRelease), Duration.ZERO, "again")), at)).block(T);
    assertThat(r.settled()).containsExactly(StoreResults.Settled.APPLIED, StoreResults.Settled.NOT_HELD,
        StoreResults.Settled.APPLIED);
    assertThat(r.claimed().claimed()).extracting(Message::id).containsExactly(visible);
    assertThat(r.claimed().untilNextVisible()).as("another message is visible").isEqualTo(Duration.ZERO);
    assertThat(find(held.id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(find(held.id()).archivedAt()).isEqualTo(at);
    assertThat(find(forgedOne.id())).isEqualTo(forgedOne);
    assertThat(find(toRelease.id()).leaseToken()).isNull();
    // The released message and the later one are claimable next, by their places in the claim order.
    assertThat(claim(q, 5, at).claimed()).extracting(Message::id).containsExactlyInAnyOrder(toRelease.id(), later);
  }

  @Test
  void claimAndSettleOfAnUnknownQueueIsQueueNotFound() {
    Instant t = start();
    StepVerifier.create(driver.claimAndSettle(new StoreParams.Claim("no_such_queue_cs", 1, LEASE, null, t),
            new StoreParams.SettleMany(List.of(StoreParams.Settle.archive(Long.MAX_VALUE, UUID.randomUUID())), t)))
        .expectError(io.pgqrs.queue.QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void settleManyAnswersEachSettleInInputOrder() {
    Instant t = start();
    String q = rows.queue(t);
    Message shortLease = rows.leasedMessage(q, Duration.ofSeconds(1), null, t);
    Message held = rows.leasedMessage(q, t);
    Message forgedOne = rows.leasedMessage(q, t);
    Message archivedBefore = rows.leasedMessage(q, t);
    Message toDelete = rows.leasedMessage(q, t);
    Message toRelease = rows.leasedMessage(q, t);
    Message toBury = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(2);
    assertThat(driver.archive(ref(archivedBefore, t.plusSeconds(1))).block(T)).isTrue();
    Message archived = find(archivedBefore.id());
    List<StoreResults.Settled> settled = settleMany(at,
        archiveOf(held),
        StoreParams.Settle.archive(forgedOne.id(), UUID.randomUUID()),
        archiveOf(shortLease),
        archiveOf(archivedBefore),
        StoreParams.Settle.archive(Long.MAX_VALUE, UUID.randomUUID()),
        StoreParams.Settle.delete(toDelete.id(), Rows.lease(toDelete)),
        StoreParams.Settle.release(toRelease.id(), Rows.lease(toRelease), Duration.ofSeconds(10), "try later"),
        StoreParams.Settle.deadLetter(toBury.id(), Rows.lease(toBury), "bad payload"));
    assertThat(settled).containsExactly(StoreResults.Settled.APPLIED, StoreResults.Settled.NOT_HELD,
        StoreResults.Settled.NOT_HELD, StoreResults.Settled.ALREADY_ARCHIVED, StoreResults.Settled.NOT_HELD,
        StoreResults.Settled.APPLIED, StoreResults.Settled.APPLIED, StoreResults.Settled.APPLIED);
    assertThat(find(held.id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(find(held.id()).archivedAt()).isEqualTo(at);
    assertThat(find(forgedOne.id())).isEqualTo(forgedOne);
    assertThat(find(shortLease.id())).isEqualTo(shortLease);
    assertThat(find(archivedBefore.id())).as("already archived: unchanged").isEqualTo(archived);
    assertThat(exists(toDelete.id())).isFalse();
    assertThat(find(toRelease.id())).isEqualTo(new Message(toRelease.id(), q, toRelease.payload(), MessageState.LIVE,
        0, 1, t, at.plusSeconds(10), null, null, null, "try later", null, null));
    assertThat(find(toBury.id())).isEqualTo(new Message(toBury.id(), q, toBury.payload(), MessageState.DEAD, 0, 1, t,
        t.plus(LEASE), null, null, null, "bad payload", null, at));
  }

  @Test
  void settleManyTellsAnArchiveUnderAnotherTokenFromOneUnderItsOwn() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Message other = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.archive(ref(m, at)).block(T)).isTrue();
    assertThat(settleMany(at, StoreParams.Settle.archive(m.id(), UUID.randomUUID()),
        StoreParams.Settle.delete(other.id(), UUID.randomUUID()))).containsExactly(
        StoreResults.Settled.NOT_HELD, StoreResults.Settled.NOT_HELD);
    // Only an archive is told so: another kind on an archived row under its token finds no lease.
    assertThat(settleMany(at, StoreParams.Settle.release(m.id(), Rows.lease(m), Duration.ZERO, "x"), archiveOf(m)))
        .containsExactly(StoreResults.Settled.NOT_HELD, StoreResults.Settled.NOT_HELD);
    assertThat(settleMany(at, archiveOf(m), archiveOf(other))).containsExactly(
        StoreResults.Settled.ALREADY_ARCHIVED, StoreResults.Settled.APPLIED);
    assertThat(find(m.id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(find(m.id()).archivedAt()).isEqualTo(at);
  }

  @Test
  void settleManySettlesARepeatedMessageByItsFirstSettleAlone() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Message n = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(settleMany(at,
        StoreParams.Settle.release(m.id(), Rows.lease(m), Duration.ZERO, "first"),
        StoreParams.Settle.archive(n.id(), UUID.randomUUID()),
        archiveOf(m),
        archiveOf(n),
        StoreParams.Settle.deadLetter(m.id(), Rows.lease(m), "third")))
        .containsExactly(StoreResults.Settled.APPLIED, StoreResults.Settled.NOT_HELD, StoreResults.Settled.NOT_HELD,
            StoreResults.Settled.NOT_HELD, StoreResults.Settled.NOT_HELD);
    assertThat(find(m.id())).isEqualTo(new Message(m.id(), q, m.payload(), MessageState.LIVE, 0, 1, t, at, null, null,
        null, "first", null, null));
    // The first settle of n had a forged token: n's own lease, named after it, was not used.
    assertThat(find(n.id())).isEqualTo(n);
    assertThat(settleMany(at)).isEmpty();
  }

  @Test
  void settleManyReleaseWithoutAnErrorKeepsThePreviousErrorAndReleasesAtOnce() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Message other = rows.leasedMessage(q, t);
    driver.release(new StoreParams.Release(ref(m, t), Duration.ZERO, "first")).block(T);
    Message again = claim(q, 1, t).claimed().get(0);
    assertThat(again.id()).isEqualTo(m.id());
    assertThat(settleMany(t, StoreParams.Settle.release(again.id(), Rows.lease(again), Duration.ZERO, null),
        archiveOf(other))).containsExactly(StoreResults.Settled.APPLIED, StoreResults.Settled.APPLIED);
    Message released = find(m.id());
    assertThat(released.lastError()).isEqualTo("first");
    assertThat(released.visibleAt()).isEqualTo(t);
    assertThat(released.leaseToken()).isNull();
    assertThat(released.attempts()).isEqualTo(2);
    assertThat(claimedIds(q, 1, t)).containsExactly(m.id());
  }

  @Test
  void deleteWithTheLeaseRemovesTheMessage() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.delete(ref(m, t.plusSeconds(1))).block(T)).isTrue();
    assertThat(exists(m.id())).isFalse();
    assertThat(driver.delete(ref(m, t.plusSeconds(1))).block(T)).isFalse();
  }

  @Test
  void releaseWithADelaySetsTheVisibilityAndKeepsTheAttempts() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.release(new StoreParams.Release(ref(m, at), Duration.ofSeconds(10), "try later")).block(T))
        .isTrue();
    assertThat(find(m.id())).isEqualTo(new Message(m.id(), q, m.payload(), MessageState.LIVE, 0, 1, t,
        at.plusSeconds(10), null, null, null, "try later", null, null));
    assertThat(driver.release(new StoreParams.Release(ref(m, at), Duration.ZERO, null)).block(T)).isFalse();
    assertThat(claimedIds(q, 1, at.plusSeconds(10).minus(MS))).isEmpty();
    assertThat(claim(q, 1, at.plusSeconds(10)).claimed()).extracting(Message::attempts).containsExactly(2);
  }

  @Test
  void releaseWithoutAnErrorKeepsThePreviousError() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    driver.release(new StoreParams.Release(ref(m, t), Duration.ZERO, "first")).block(T);
    Message again = claim(q, 1, t).claimed().get(0);
    assertThat(driver.release(new StoreParams.Release(ref(again, t), Duration.ZERO, null)).block(T)).isTrue();
    assertThat(find(m.id()).lastError()).isEqualTo("first");
  }

  @Test
  void extendMovesTheExpiryFromNowAndKeepsTheToken() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(10);
    assertThat(driver.extend(new StoreParams.Extend(ref(m, at), Duration.ofSeconds(60))).block(T))
        .isEqualTo(new Lease(m.id(), m.leaseToken(), at.plusSeconds(60)));
    Message extended = find(m.id());
    assertThat(extended.visibleAt()).isEqualTo(at.plusSeconds(60));
    assertThat(extended.attempts()).isEqualTo(1);
    assertThat(extended.leaseToken()).isEqualTo(m.leaseToken());
    assertThat(claimedIds(q, 1, t.plus(LEASE).plusSeconds(1))).isEmpty();
  }

  private static StoreParams.LeaseExtension extension(StoreParams.LeaseRef ref, Duration duration) {
    return new StoreParams.LeaseExtension(ref.messageId(), ref.token(), duration);
  }

  @Test
  void extendManyExtendsExactlyTheHeldLeasesEachByItsOwnLength() {
    Instant t = start();
    String q = rows.queue(t);
    Message held = rows.leasedMessage(q, t);
    Message heldLonger = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(10);
    Message expired = rows.expiredLease(q, at);
    Message forgedOne = rows.leasedMessage(q, t);
    Message archived = rows.leasedMessage(q, t);
    assertThat(driver.archive(ref(archived, t.plusSeconds(1))).block(T)).isTrue();
    Message expiredBefore = find(expired.id());
    Message forgedBefore = find(forgedOne.id());
    Message archivedBefore = find(archived.id());
    List<Lease> extended = driver.extendMany(new StoreParams.ExtendMany(List.of(
        extension(ref(held, at), Duration.ofSeconds(60)),
        extension(ref(expired, at), Duration.ofSeconds(60)),
        extension(forged(forgedOne, at), Duration.ofSeconds(60)),
        extension(ref(archived, at), Duration.ofSeconds(60)),
        extension(ref(heldLonger, at), Duration.ofSeconds(90))), at)).block(T);
    assertThat(extended).containsExactlyInAnyOrder(
        new Lease(held.id(), held.leaseToken(), at.plusSeconds(60)),
        new Lease(heldLonger.id(), heldLonger.leaseToken(), at.plusSeconds(90)));
    assertThat(find(held.id()).visibleAt()).isEqualTo(at.plusSeconds(60));
    assertThat(find(held.id()).leaseToken()).isEqualTo(held.leaseToken());
    assertThat(find(heldLonger.id()).visibleAt()).isEqualTo(at.plusSeconds(90));
    assertThat(find(expired.id())).isEqualTo(expiredBefore);
    assertThat(find(forgedOne.id())).isEqualTo(forgedBefore);
    assertThat(find(archived.id())).isEqualTo(archivedBefore);
    assertThat(claimedIds(q, 5, t.plus(LEASE).plusSeconds(1)))
        .containsExactlyInAnyOrder(expired.id(), forgedOne.id());
  }

  @Test
  void extendManyOfNothingOrOfARepeatedLeaseChangesItOnce() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.extendMany(new StoreParams.ExtendMany(List.of(), at)).block(T)).isEmpty();
    assertThat(find(m.id())).isEqualTo(m);
    assertThat(driver.extendMany(new StoreParams.ExtendMany(List.of(
            extension(ref(m, at), Duration.ofSeconds(30)), extension(ref(m, at), Duration.ofSeconds(30))), at))
        .block(T))
        .containsExactly(new Lease(m.id(), m.leaseToken(), at.plusSeconds(30)));
    assertThat(find(m.id()).visibleAt()).isEqualTo(at.plusSeconds(30));
  }

  @Test
  void extendCanShortenALease() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.extend(new StoreParams.Extend(ref(m, t.plusSeconds(1)), Duration.ofSeconds(1))).block(T))
        .isEqualTo(new Lease(m.id(), m.leaseToken(), t.plusSeconds(2)));
    assertThat(claimedIds(q, 1, t.plusSeconds(2))).containsExactly(m.id());
  }

  @Test
  void deadLetterRecordsTheErrorAndLeavesTheLiveSet() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.deadLetter(new StoreParams.DeadLetter(ref(m, at), "bad payload")).block(T)).isTrue();
    assertThat(find(m.id())).isEqualTo(new Message(m.id(), q, m.payload(), MessageState.DEAD, 0, 1, t,
        t.plus(LEASE), null, null, null, "bad payload", null, at));
    assertThat(claimedIds(q, 1, t.plus(LEASE).plusSeconds(1))).isEmpty();
    assertThat(listIds(q, MessageState.DEAD)).containsExactly(m.id());
  }

  // ---------------------------------------------------------------- reading messages

  @Test
  void findMessageOfAnUnknownIdIsEmpty() {
    StepVerifier.create(driver.findMessage(Long.MAX_VALUE)).expectComplete().verify(T);
  }

  @Test
  void listMessagesPagesByIdAfterTheGivenId() {
    Instant t = start();
    String q = rows.queue(t);
    List<Long> ids = driver.enqueue(new StoreParams.Enqueue(q,
            List.of(Rows.row(1), Rows.row(2), Rows.row(3), Rows.row(4), Rows.row(5)), t))
        .block(T).stream().map(StoreResults.Enqueued::id).toList();
    Function<Long, List<Long>> page = after -> driver.listMessages(
        new StoreParams.ListMessages(q, MessageState.LIVE, after, 2)).map(Message::id).collectList().block(T);
    assertThat(page.apply(0L)).containsExactly(ids.get(0), ids.get(1));
    assertThat(page.apply(ids.get(1))).containsExactly(ids.get(2), ids.get(3));
    assertThat(page.apply(ids.get(3))).containsExactly(ids.get(4));
    assertThat(page.apply(ids.get(4))).isEmpty();
  }

  @Test
  void listMessagesListsOnlyTheRequestedState() {
    Instant t = start();
    String q = rows.queue(1, t.minusSeconds(60));
    Message dead = rows.deadMessage(q, t.minusSeconds(30));
    Message archived = rows.archivedMessage(q, t.minusSeconds(20));
    Message leased = rows.leasedMessage(q, t.minusSeconds(10));
    Message live = rows.liveMessage(q, t);
    assertThat(driver.listMessages(new StoreParams.ListMessages(q, MessageState.LIVE, 0, 10)).collectList().block(T))
        .containsExactly(leased, live);
    assertThat(driver.listMessages(new StoreParams.ListMessages(q, MessageState.ARCHIVED, 0, 10)).collectList()
        .block(T)).containsExactly(archived);
    assertThat(driver.listMessages(new StoreParams.ListMessages(q, MessageState.DEAD, 0, 10)).collectList().block(T))
        .containsExactly(dead);
  }

  @Test
  void listMessagesOfAnUnknownQueueIsEmpty() {
    StepVerifier.create(driver.listMessages(
            new StoreParams.ListMessages(Rows.uniqueName("missing"), MessageState.LIVE, 0, 10)))
        .expectComplete().verify(T);
  }

  // ---------------------------------------------------------------- replay and purge

  @Test
  void replayDeadBringsMessagesBackLiveWithAttemptsReset() {
    Instant t = start();
    String q = rows.queue(2, t.minusSeconds(60));
    Message dead = rows.deadMessage(q, t.minusSeconds(10));
    assertThat(dead.attempts()).isEqualTo(2);
    StepVerifier.create(driver.replayDead(new StoreParams.Replay(q, null, t))).expectNext(1L).expectComplete()
        .verify(T);
    assertThat(find(dead.id())).isEqualTo(new Message(dead.id(), q, dead.payload(), MessageState.LIVE, 0, 0,
        dead.enqueuedAt(), t, null, null, null, "max attempts reached", null, null));
    assertThat(claim(q, 1, t).claimed()).extracting(Message::attempts).containsExactly(1);
  }

  @Test
  void replayDeadOfChosenIdsReplaysOnlyThoseThatAreDead() {
    Instant t = start();
    String q = rows.queue(1, t.minusSeconds(60));
    Message first = rows.deadMessage(q, t.minusSeconds(20));
    Message second = rows.deadMessage(q, t.minusSeconds(10));
    Message live = rows.liveMessage(q, t);
    String other = rows.queue(1, t.minusSeconds(60));
    Message elsewhere = rows.deadMessage(other, t.minusSeconds(10));
    assertThat(driver.replayDead(new StoreParams.Replay(q,
        List.of(first.id(), live.id(), elsewhere.id(), Long.MAX_VALUE), t)).block(T)).isEqualTo(1L);
    assertThat(find(first.id()).state()).isEqualTo(MessageState.LIVE);
    assertThat(find(second.id())).isEqualTo(second);
    assertThat(find(live.id())).isEqualTo(live);
    assertThat(find(elsewhere.id())).isEqualTo(elsewhere);
  }

  @Test
  void replayedMessageKeepsItsDedupKeyUnlessALiveMessageHoldsIt() {
    Instant t = start();
    String q = rows.queue(t);
    long taken = enqueueKeyed(q, "k1", t);
    long free = enqueueKeyed(q, "k2", t);
    for (Message m : claim(q, 2, t).claimed()) {
      driver.deadLetter(new StoreParams.DeadLetter(ref(m, t.plusSeconds(1)), "bad")).block(T);
    }
    long holder = enqueueKeyed(q, "k1", t.plusSeconds(2));
    assertThat(driver.replayDead(new StoreParams.Replay(q, null, t.plusSeconds(3))).block(T)).isEqualTo(2L);
    assertThat(find(taken).dedupKey()).isNull();
    assertThat(find(free).dedupKey()).isEqualTo("k2");
    assertThat(find(holder).dedupKey()).isEqualTo("k1");
  }

  @Test
  void replayDeadOfAnUnknownQueueFailsWithQueueNotFound() {
    StepVerifier.create(driver.replayDead(new StoreParams.Replay(Rows.uniqueName("missing"), null, null)))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void purgeArchivedDeletesOnlyMessagesOlderThanTheAge() {
    Instant t = start();
    String q = rows.queue(t);
    Message oldest = rows.archivedMessage(q, t);
    Message older = rows.archivedMessage(q, t.plusSeconds(60));
    Message recent = rows.archivedMessage(q, t.plusSeconds(120));
    assertThat(driver.purgeMessages(new StoreParams.PurgeMessages(q, MessageState.ARCHIVED, Duration.ofSeconds(30),
        0, t.plusSeconds(120))).block(T)).isEqualTo(2L);
    assertThat(exists(oldest.id())).isFalse();
    assertThat(exists(older.id())).isFalse();
    assertThat(find(recent.id())).isEqualTo(recent);
  }

  @Test
  void purgeAgeCountsOnlyMessagesStrictlyOlder() {
    Instant t = start();
    String q = rows.queue(t);
    rows.archivedMessage(q, t);
    Duration age = Duration.ofSeconds(30);
    assertThat(driver.purgeMessages(new StoreParams.PurgeMessages(q, MessageState.ARCHIVED, age, 0, t.plus(age)))
        .block(T)).isZero();
    assertThat(driver.purgeMessages(new StoreParams.PurgeMessages(q, MessageState.ARCHIVED, age, 0,
        t.plus(age).plus(MS))).block(T)).isEqualTo(1L);
  }

  @Test
  void purgeHonoursTheLimitInIdOrder() {
    Instant t = start();
    String q = rows.queue(t);
    Message a = rows.archivedMessage(q, t);
    Message b = rows.archivedMessage(q, t.plusSeconds(1));
    Message c = rows.archivedMessage(q, t.plusSeconds(2));
    assertThat(driver.purgeMessages(new StoreParams.PurgeMessages(q, MessageState.ARCHIVED, null, 2,
        t.plusSeconds(3))).block(T)).isEqualTo(2L);
    assertThat(listIds(q, MessageState.ARCHIVED)).containsExactly(c.id());
    assertThat(exists(a.id()) || exists(b.id())).isFalse();
  }

  @Test
  void purgeDeadWithoutAgeOrLimitDeletesEveryDeadMessageAndNothingElse() {
    Instant t = start();
    String q = rows.queue(1, t.minusSeconds(60));
    rows.deadMessage(q, t.minusSeconds(30));
    rows.deadMessage(q, t.minusSeconds(20));
    Message archived = rows.archivedMessage(q, t.minusSeconds(10));
    Message live = rows.liveMessage(q, t);
    assertThat(driver.purgeMessages(new StoreParams.PurgeMessages(q, MessageState.DEAD, null, 0, t)).block(T))
        .isEqualTo(2L);
    assertThat(listIds(q, MessageState.DEAD)).isEmpty();
    assertThat(find(archived.id())).isEqualTo(archived);
    assertThat(find(live.id())).isEqualTo(live);
  }

  @Test
  void purgeMessagesOfAnUnknownQueueFailsWithQueueNotFound() {
    StepVerifier.create(driver.purgeMessages(new StoreParams.PurgeMessages(Rows.uniqueName("missing"),
            MessageState.ARCHIVED, null, 0, null)))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void purgeMessagesOfTheLiveStateFailsWhenSubscribed() {
    // Live messages are purged with purgeQueue; the refusal is a signal, never a throw on the call.
    Mono<Long> purge = driver.purgeMessages(new StoreParams.PurgeMessages(Rows.uniqueName("q"), MessageState.LIVE,
        null, 0, null));
    StepVerifier.create(purge).expectError(IllegalArgumentException.class).verify(T);
  }

  // ---------------------------------------------------------------- workers

  @Test
  void registerWorkerRecordsItReadyAtTheClock() {
    Instant t = start();
    String q = rows.queue(t);
    String name = Rows.uniqueName("w");
    WorkerInfo w = driver.registerWorker(new StoreParams.RegisterWorker(name, q, "host-b", 7, t)).block(T);
    assertThat(w).isEqualTo(new WorkerInfo(w.id(), name, q, "host-b", 7, WorkerStatus.READY, t, t, null));
    assertThat(worker(w.id())).isEqualTo(w);
  }

  @Test
  void registerWorkerWithoutAQueue() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    assertThat(w.queue()).isNull();
    assertThat(worker(w.id())).isEqualTo(w);
  }

  @Test
  void registerWorkerWithATakenNameFailsWithWorkerAlreadyExists() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    for (String queue : new String[] {q, null}) {
      StepVerifier.create(driver.registerWorker(new StoreParams.RegisterWorker(w.name(), queue, "host-c", 8, t)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(WorkerAlreadyExistsException.class,
              x -> assertThat(x.workerName()).isEqualTo(w.name())))
          .verify(T);
    }
    assertThat(worker(w.id())).isEqualTo(w);
  }

  @Test
  void registerWorkerOnAnUnknownQueueFailsWithQueueNotFound() {
    StepVerifier.create(driver.registerWorker(new StoreParams.RegisterWorker(Rows.uniqueName("w"),
            Rows.uniqueName("missing"), "host-a", 1, null)))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void heartbeatMovesTheHeartbeatForwardOnly() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    assertThat(driver.heartbeat(new StoreParams.Heartbeat(w.id(), t.plusSeconds(5))).block(T))
        .isEqualTo(WorkerStatus.READY);
    assertThat(worker(w.id()).heartbeatAt()).isEqualTo(t.plusSeconds(5));
    assertThat(driver.heartbeat(new StoreParams.Heartbeat(w.id(), t.plusSeconds(2))).block(T))
        .isEqualTo(WorkerStatus.READY);
    assertThat(worker(w.id()).heartbeatAt()).isEqualTo(t.plusSeconds(5));
  }

  @Test
  void heartbeatOfAMissingWorkerIsEmpty() {
    StepVerifier.create(driver.heartbeat(new StoreParams.Heartbeat(Long.MAX_VALUE, null))).expectComplete().verify(T);
  }

  @Test
  void heartbeatOfAStoppedWorkerReportsItStopped() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t)).block(T);
    assertThat(driver.heartbeat(new StoreParams.Heartbeat(w.id(), t.plusSeconds(1))).block(T))
        .isEqualTo(WorkerStatus.STOPPED);
  }

  @Test
  void setWorkerStatusSuspendsAndResumes() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    WorkerInfo suspended = new WorkerInfo(w.id(), w.name(), null, w.hostname(), w.pid(), WorkerStatus.SUSPENDED,
        t, t, null);
    assertThat(driver.setWorkerStatus(new StoreParams.SetWorkerStatus(w.id(), WorkerStatus.SUSPENDED)).block(T))
        .isEqualTo(suspended);
    assertThat(worker(w.id())).isEqualTo(suspended);
    assertThat(driver.heartbeat(new StoreParams.Heartbeat(w.id(), t)).block(T)).isEqualTo(WorkerStatus.SUSPENDED);
    assertThat(driver.setWorkerStatus(new StoreParams.SetWorkerStatus(w.id(), WorkerStatus.READY)).block(T))
        .isEqualTo(w);
  }

  @Test
  void setWorkerStatusLeavesAStoppedWorkerStopped() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t.plusSeconds(1))).block(T);
    WorkerInfo stopped = worker(w.id());
    assertThat(stopped.status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(stopped.stoppedAt()).isEqualTo(t.plusSeconds(1));
    assertThat(driver.setWorkerStatus(new StoreParams.SetWorkerStatus(w.id(), WorkerStatus.READY)).block(T))
        .isEqualTo(stopped);
    assertThat(worker(w.id())).isEqualTo(stopped);
  }

  @Test
  void setWorkerStatusOfAMissingWorkerIsEmpty() {
    StepVerifier.create(driver.setWorkerStatus(new StoreParams.SetWorkerStatus(Long.MAX_VALUE, WorkerStatus.READY)))
        .expectComplete().verify(T);
  }

  @Test
  void shutdownOfAWorkerHoldingLeasesIsRefusedUnlessItReleasesThem() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    Message first = rows.leasedMessage(q, LEASE, w.id(), t);
    Message second = rows.leasedMessage(q, LEASE, w.id(), t);
    assertThat(driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t.plusSeconds(1))).block(T))
        .isEqualTo(new StoreResults.WorkerBusy(2));
    assertThat(worker(w.id())).isEqualTo(w);
    assertThat(find(first.id())).isEqualTo(first);
    assertThat(find(second.id())).isEqualTo(second);
  }

  @Test
  void shutdownReleasingLeasesMakesThemClaimableAtOnceWithAttemptsKept() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    Message first = rows.leasedMessage(q, LEASE, w.id(), t);
    Message second = rows.leasedMessage(q, LEASE, w.id(), t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), true, at)).block(T))
        .isEqualTo(new StoreResults.WorkerStopped(2));
    assertThat(worker(w.id())).isEqualTo(new WorkerInfo(w.id(), w.name(), q, w.hostname(), w.pid(),
        WorkerStatus.STOPPED, t, t, at));
    for (Message m : List.of(first, second)) {
      assertThat(find(m.id())).isEqualTo(new Message(m.id(), q, m.payload(), MessageState.LIVE, 0, 1, t, at, null,
          null, null, null, null, null));
    }
    assertThat(claim(q, 5, at).claimed()).extracting(Message::attempts).containsExactly(2, 2);
  }

  @Test
  void shutdownIgnoresExpiredLeases() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    Message m = rows.leasedMessage(q, LEASE, w.id(), t);
    assertThat(driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t.plus(LEASE))).block(T))
        .isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void shutdownTwiceKeepsTheFirstStopTime() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t.plusSeconds(1))).block(T);
    assertThat(driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), true, t.plusSeconds(9))).block(T))
        .isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(worker(w.id()).stoppedAt()).isEqualTo(t.plusSeconds(1));
  }

  @Test
  void shutdownOfAMissingWorkerReportsItMissing() {
    assertThat(driver.shutdownWorker(new StoreParams.ShutdownWorker(Long.MAX_VALUE, true, null)).block(T))
        .isEqualTo(new StoreResults.WorkerMissing());
  }

  @Test
  void workerHealthJudgesStalenessAtTheGivenClock() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    Duration staleAfter = Duration.ofSeconds(60);
    assertThat(health(w, staleAfter, t.plus(staleAfter)))
        .isEqualTo(new WorkerHealth(w, staleAfter, false, 0));
    WorkerHealth stale = health(w, staleAfter, t.plus(staleAfter).plus(MS));
    assertThat(stale).isEqualTo(new WorkerHealth(w, staleAfter.plus(MS), true, 0));
    assertThat(stale.healthy()).isFalse();
    WorkerInfo fromFactory = rows.staleWorker(null, staleAfter, t);
    assertThat(health(fromFactory, staleAfter, t).stale()).isTrue();
  }

  @Test
  void workerHealthCountsOnlyUnexpiredLeases() {
    Instant t = start();
    String q = rows.queue(t);
    WorkerInfo w = rows.worker(q, t);
    rows.leasedMessage(q, LEASE, w.id(), t);
    rows.leasedMessage(q, Duration.ofSeconds(5), w.id(), t);
    Duration staleAfter = Duration.ofMinutes(5);
    assertThat(health(w, staleAfter, t.plusSeconds(1)).leases()).isEqualTo(2);
    assertThat(health(w, staleAfter, t.plusSeconds(5)).leases()).isEqualTo(1);
    assertThat(health(w, staleAfter, t.plus(LEASE)).leases()).isZero();
  }

  @Test
  void aStoppedWorkerIsNeverStale() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    driver.shutdownWorker(new StoreParams.ShutdownWorker(w.id(), false, t)).block(T);
    WorkerHealth h = health(w, Duration.ofSeconds(60), t.plusSeconds(3600));
    assertThat(h.stale()).isFalse();
    assertThat(h.worker().status()).isEqualTo(WorkerStatus.STOPPED);
    assertThat(h.sinceHeartbeat()).isEqualTo(Duration.ofSeconds(3600));
    assertThat(h.healthy()).isFalse();
  }

  @Test
  void deleteWorkerIsRefusedWhileItHoldsALease() {
    // deleteWorker judges leases by the store's own clock: the lease must be live now.
    Instant now = start();
    String q = rows.queue(now);
    WorkerInfo w = rows.worker(q, now);
    Message m = rows.leasedMessage(q, Duration.ofHours(1), w.id(), now);
    assertThat(driver.deleteWorker(w.id()).block(T)).isEqualTo(new StoreResults.WorkerBusy(1));
    assertThat(worker(w.id())).isEqualTo(w);
    assertThat(driver.archive(ref(m, now.plusSeconds(1))).block(T)).isTrue();
    assertThat(driver.deleteWorker(w.id()).block(T)).isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(driver.findWorker(w.id()).blockOptional(T)).isEmpty();
  }

  @Test
  void deleteWorkerIgnoresExpiredLeases() {
    Instant longAgo = start().minus(Duration.ofHours(2));
    String q = rows.queue(longAgo);
    WorkerInfo w = rows.worker(q, longAgo);
    Message m = rows.leasedMessage(q, LEASE, w.id(), longAgo);
    assertThat(driver.deleteWorker(w.id()).block(T)).isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(driver.findWorker(w.id()).blockOptional(T)).isEmpty();
    assertThat(find(m.id())).isEqualTo(m);
  }

  @Test
  void deleteOfAMissingWorkerReportsItMissing() {
    assertThat(driver.deleteWorker(Long.MAX_VALUE).block(T)).isEqualTo(new StoreResults.WorkerMissing());
  }

  @Test
  void listWorkersOfAQueueListsOnlyItsWorkersById() {
    Instant t = start();
    String q = rows.queue(t);
    String other = rows.queue(t);
    WorkerInfo first = rows.worker(q, t);
    WorkerInfo elsewhere = rows.worker(other, t);
    WorkerInfo second = rows.worker(q, t.plusSeconds(1));
    assertThat(driver.listWorkers(q).collectList().block(T)).containsExactly(first, second);
    List<Long> ids = List.of(first.id(), elsewhere.id(), second.id());
    assertThat(driver.listWorkers(null).filter(w -> ids.contains(w.id())).collectList().block(T))
        .containsExactly(first, elsewhere, second);
  }

  @Test
  void findWorkerOfAMissingIdIsEmpty() {
    StepVerifier.create(driver.findWorker(Long.MAX_VALUE)).expectComplete().verify(T);
  }

  // ---------------------------------------------------------------- metrics and next visibility

  @Test
  void queueMetricsCountEachState() {
    Instant t = start();
    String q = rows.queue(1, t.minusSeconds(60));
    rows.archivedMessage(q, t.minusSeconds(50));
    rows.deadMessage(q, t.minusSeconds(40));
    rows.leasedMessage(q, Duration.ofMinutes(5), null, t.minusSeconds(30));
    rows.liveMessage(q, t.minusSeconds(10));
    rows.liveMessage(q, t.minusSeconds(5));
    rows.delayedMessage(q, t, Duration.ofSeconds(60));
    assertThat(metrics(q, t)).isEqualTo(new QueueMetrics(q, 2, 1, 1, 1, 1, Duration.ofSeconds(10)));
  }

  @Test
  void anExpiredLeaseCountsAsPendingSinceItsExpiry() {
    Instant t = start();
    String q = rows.queue(t.minusSeconds(60));
    rows.expiredLease(q, t);
    assertThat(metrics(q, t)).isEqualTo(new QueueMetrics(q, 1, 0, 0, 0, 0, Duration.ofSeconds(1)));
  }

  @Test
  void queueMetricsOfAnEmptyQueueAreZero() {
    Instant t = start();
    String q = rows.queue(t);
    assertThat(metrics(q, t)).isEqualTo(new QueueMetrics(q, 0, 0, 0, 0, 0, null));
  }

  @Test
  void queueThroughputCountsArchivedRowsPerIntervalOfTheWindowBeforeNow() {
    Instant t = start();
    String q = rows.queue(t.minus(Duration.ofHours(2)));
    String other = rows.queue(t.minus(Duration.ofHours(2)));
    rows.archivedMessage(q, t.minus(Duration.ofMinutes(11)));        // before the window
    rows.archivedMessage(q, t.minus(Duration.ofMinutes(10)));        // its start is not in it
    rows.archivedMessage(q, t.minus(Duration.ofMinutes(9)).minusMillis(1));
    rows.archivedMessage(q, t.minus(Duration.ofMinutes(9)));         // bucket 0 ends here, included
    rows.archivedMessage(q, t.minus(Duration.ofMinutes(9)).plusMillis(1)); // bucket 1
    rows.archivedMessage(q, t.minusSeconds(30));
    rows.archivedMessage(q, t);                                      // now, in the last bucket (9)
    rows.archivedMessage(other, t.minus(Duration.ofMinutes(5)));
    rows.deadMessage(q, t.minus(Duration.ofMinutes(5)));
    rows.liveMessage(q, t.minus(Duration.ofMinutes(5)));

    List<StoreResults.ArchivedBucket> read = driver.queueThroughput(new StoreParams.ThroughputQuery(q,
        Duration.ofMinutes(10), Duration.ofMinutes(1), t)).collectList().block(T);
    assertThat(read).containsExactly(new StoreResults.ArchivedBucket(t, 0L, 2), new StoreResults.ArchivedBucket(t, 1L, 1),
        new StoreResults.ArchivedBucket(t, 9L, 2));
    assertThat(driver.queueThroughput(new StoreParams.ThroughputQuery(q, Duration.ofMinutes(10), Duration.ofMinutes(5),
        t)).collectList().block(T)).containsExactly(new StoreResults.ArchivedBucket(t, 0L, 3),
        new StoreResults.ArchivedBucket(t, 1L, 2));
    assertThat(driver.queueThroughput(new StoreParams.ThroughputQuery(q, Duration.ofMinutes(1), Duration.ofMinutes(1),
        t.minus(Duration.ofHours(1)))).collectList().block(T))
        .containsExactly(new StoreResults.ArchivedBucket(t.minus(Duration.ofHours(1)), null, 0));
    StepVerifier.create(driver.queueThroughput(new StoreParams.ThroughputQuery(Rows.uniqueName("missing"),
        Duration.ofMinutes(1), Duration.ofMinutes(1), t))).expectComplete().verify(T);
  }

  @Test
  void queueMetricsOfAnUnknownQueueAreEmpty() {
    StepVerifier.create(driver.queueMetrics(new StoreParams.MetricsQuery(Rows.uniqueName("missing"), null)))
        .expectComplete().verify(T);
  }

  @Test
  void untilNextVisibleIsZeroWhenAMessageIsClaimable() {
    Instant t = start();
    String q = rows.queue(t);
    rows.liveMessage(q, t);
    assertThat(untilNextVisible(q, t)).isEqualTo(Duration.ZERO);
    assertThat(untilNextVisible(q, t.plusSeconds(5))).isEqualTo(Duration.ZERO);
  }

  @Test
  void untilNextVisibleIsTheWaitForADelayedMessage() {
    Instant t = start();
    String q = rows.queue(t);
    rows.delayedMessage(q, t, Duration.ofSeconds(90));
    assertThat(untilNextVisible(q, t.plusSeconds(30))).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void untilNextVisibleIsTheWaitForALeaseToEnd() {
    Instant t = start();
    String q = rows.queue(t);
    rows.leasedMessage(q, t);
    assertThat(untilNextVisible(q, t.plusSeconds(10))).isEqualTo(LEASE.minusSeconds(10));
  }

  @Test
  void untilNextVisibleIsTheShortestWait() {
    Instant t = start();
    String q = rows.queue(t);
    rows.leasedMessage(q, t);
    rows.delayedMessage(q, t, Duration.ofSeconds(90));
    rows.delayedMessage(q, t, Duration.ofSeconds(10));
    assertThat(untilNextVisible(q, t)).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void untilNextVisibleIsEmptyWithoutLiveMessages() {
    Instant t = start();
    String q = rows.queue(t);
    StepVerifier.create(driver.untilNextVisible(q, t)).expectComplete().verify(T);
    rows.archivedMessage(q, t);
    StepVerifier.create(driver.untilNextVisible(q, t)).expectComplete().verify(T);
  }

  @Test
  void untilNextVisibleOfAnUnknownQueueIsEmpty() {
    StepVerifier.create(driver.untilNextVisible(Rows.uniqueName("missing"), null)).expectComplete().verify(T);
  }

  // ---------------------------------------------------------------- workflows and runs

  @Test
  void registerWorkflowCreatesItsQueueAndIsIdempotent() {
    Instant t = start();
    String name = Rows.uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, null, 3, t)).block(T);
    QueueInfo queue = driver.findQueue(name).block(T);
    assertThat(queue.maxAttempts()).isEqualTo(3);
    assertThat(queue.createdAt()).isEqualTo(t);
    StepVerifier.create(driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, null, 7, t.plusSeconds(1))))
        .expectComplete().verify(T);
    assertThat(driver.findQueue(name).block(T)).isEqualTo(queue);
  }

  @Test
  void registerWorkflowKeepsAnExistingQueue() {
    Instant t = start();
    String name = rows.queue(9, t);
    QueueInfo queue = driver.findQueue(name).block(T);
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, null, 3, t.plusSeconds(1))).block(T);
    assertThat(driver.findQueue(name).block(T)).isEqualTo(queue);
    assertThat(rows.queuedRun(name, t.plusSeconds(2)).id()).isPositive();
  }

  @Test
  void triggerRunCreatesAQueuedRunAndItsMessage() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run run = rows.queuedRun(wf, t);
    assertThat(run(run.id())).isEqualTo(new RunInfo(run.id(), wf, RunStatus.QUEUED, json("{\"order\": 1}"), null,
        null, null, 0, 0, t, null, null, null));
    Message m = triggerMessage(run, MessageState.LIVE);
    assertThat(m).isEqualTo(new Message(m.id(), wf, json("{\"run_id\": " + run.id() + "}"), MessageState.LIVE, 0, 0,
        t, t, null, null, null, null, null, null));
  }

  @Test
  void triggerRunWithATimeoutSetsTheDeadline() {
    Instant t = start();
    String wf = rows.workflow(t);
    long id = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", null, Duration.ofMinutes(5), null, t)).block(T).runId();
    assertThat(run(id).deadline()).isEqualTo(t.plus(Duration.ofMinutes(5)));
  }

  @Test
  void triggerRunWithAUsedIdempotencyKeyReturnsThatRun() {
    Instant t = start();
    String wf = rows.workflow(t);
    StoreResults.Triggered first = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{\"a\": 1}", "key-1", null, null, t))
        .block(T);
    StoreResults.Triggered again = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{\"a\": 2}", "key-1", null, null,
        t.plusSeconds(1))).block(T);
    assertThat(first.created()).isTrue();
    assertThat(again).isEqualTo(new StoreResults.Triggered(first.runId(), false));
    RunInfo run = run(first.runId());
    assertThat(run.input()).isEqualTo(json("{\"a\": 1}"));
    assertThat(run.idempotencyKey()).isEqualTo("key-1");
    assertThat(listIds(wf, MessageState.LIVE)).hasSize(1);
  }

  @Test
  void idempotencyKeysAreScopedToTheirWorkflow() {
    Instant t = start();
    String a = rows.workflow(t);
    String b = rows.workflow(t);
    StoreResults.Triggered inA = driver.triggerRun(new StoreParams.TriggerRun(a, a, null, "{}", "same", null, null, t)).block(T);
    StoreResults.Triggered inB = driver.triggerRun(new StoreParams.TriggerRun(b, b, null, "{}", "same", null, null, t)).block(T);
    assertThat(inB.created()).isTrue();
    assertThat(inB.runId()).isNotEqualTo(inA.runId());
  }

  @Test
  void triggerRunOfAnUnknownWorkflowFailsWithWorkflowNotFound() {
    String wf = Rows.uniqueName("missing");
    StepVerifier.create(driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", null, null, null, null)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(WorkflowNotFoundException.class,
            x -> assertThat(x.workflow()).isEqualTo(wf)))
        .verify(T);
    // A plain queue of that name is not a workflow.
    String q = rows.queue(start());
    StepVerifier.create(driver.triggerRun(new StoreParams.TriggerRun(q, q, null, "{}", null, null, null, null)))
        .expectError(WorkflowNotFoundException.class)
        .verify(T);
  }

  @Test
  void beginRunMovesAQueuedRunToRunning() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.QUEUED, t);
    StoreResults.RunBegun result = driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(1))).block(T);
    assertThat(result.untilDeadline()).isNull();
    assertThat(result.history()).isEmpty();
    RunInfo begun = result.run();
    assertThat(begun).isEqualTo(new RunInfo(run.id(), run.workflow(), RunStatus.RUNNING, json("{\"order\": 1}"),
        null, null, null, 1, 0, t, t.plusSeconds(1), null, null));
    assertThat(run(run.id())).isEqualTo(begun);
  }

  @Test
  void beginRunAgainCountsAnAttemptAndKeepsTheStart() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    RunInfo again = driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(5))).block(T).run();
    assertThat(again.status()).isEqualTo(RunStatus.RUNNING);
    assertThat(again.attempts()).isEqualTo(2);
    assertThat(again.startedAt()).isEqualTo(t);
  }

  @Test
  void beginRunLeavesPausedCancellingAndFinishedRunsUnchanged() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.PAUSED, RunStatus.CANCELLING, RunStatus.SUCCESS, RunStatus.ERROR,
        RunStatus.CANCELLED)) {
      Rows.Run run = rows.runIn(status, t);
      RunInfo before = run(run.id());
      assertThat(driver.beginRun(new StoreParams.BeginRun(run.id(), RunTransitions.BEGIN, t.plusSeconds(1))).block(T).run())
          .as("beginRun of a %s run", status)
          .isEqualTo(before);
    }
  }

  @Test
  void beginRunOfAMissingRunIsEmpty() {
    StepVerifier.create(driver.beginRun(new StoreParams.BeginRun(Long.MAX_VALUE, RunTransitions.BEGIN, null))).expectComplete().verify(T);
  }

  private StoreResults.ClaimedRuns claimRuns(String queue, int limit, Instant at) {
    return driver.claimRuns(new StoreParams.ClaimRuns(new StoreParams.Claim(queue, limit, LEASE, null, at),
        RunTransitions.BEGIN)).block(T);
  }

  @Test
  void claimRunsClaimsTheMessagesAndBeginsTheirRunsInOneCall() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run first = rows.queuedRun(wf, t);
    long plain = rows.enqueue(wf, Rows.row(7), t);
    Rows.Run second = rows.queuedRun(wf, t);
    Instant at = t.plusSeconds(1);
    StoreResults.ClaimedRuns result = claimRuns(wf, 10, at);
    List<Message> claimed = result.claimed().claimed();
    assertThat(claimed).hasSize(3);
    assertThat(claimed.get(1).id()).isEqualTo(plain);
    assertThat(result.claimed().deadLettered()).isEmpty();
    assertThat(result.begun()).as("a message without a run is claimed, not begun")
        .containsOnlyKeys(claimed.get(0).id(), claimed.get(2).id());
    for (Rows.Run run : List.of(first, second)) {
      Message m = claimed.stream().filter(c -> c.payload().path("run_id").asLong() == run.id()).findFirst().orElseThrow();
      StoreResults.RunBegun begun = result.begun().get(m.id());
      assertThat(begun.run()).isEqualTo(new RunInfo(run.id(), wf, RunStatus.RUNNING, json("{\"order\": 1}"),
          null, null, null, 1, 0, t, at, null, null));
      assertThat(begun.history()).isEmpty();
      assertThat(begun.untilDeadline()).isNull();
      assertThat(run(run.id())).isEqualTo(begun.run());
      assertThat(find(m.id())).isEqualTo(m);
    }
  }

  @Test
  void claimRunsOfARunTakenAgainCountsTheAttemptAndReturnsItsHistory() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), success(run, "1", "s", "{\"v\": 1}", 1))).isEqualTo(WRITTEN);
    Instant late = t.plus(LEASE).plus(MS);
    StoreResults.ClaimedRuns result = claimRuns(run.workflow(), 1, late);
    assertThat(result.claimed().claimed()).extracting(Message::id).containsExactly(run.message().id());
    StoreResults.RunBegun begun = result.begun().get(run.message().id());
    assertThat(begun.run().attempts()).isEqualTo(2);
    assertThat(begun.run().startedAt()).isEqualTo(t);
    assertThat(begun.history()).isEqualTo(begin(run.id(), late).history()).hasSize(1);
    assertThat(json(begun.history().get(0).outputJson())).isEqualTo(json("{\"v\": 1}"));
  }

  @Test
  void claimRunsLeavesACancellingRunAsItIsAndFailsOnAnUnknownQueue() {
    Instant t = start();
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    RunInfo before = run(cancelling.id());
    Instant late = t.plus(LEASE).plus(MS);
    StoreResults.ClaimedRuns result = claimRuns(cancelling.workflow(), 1, late);
    assertThat(result.claimed().claimed()).extracting(Message::id).containsExactly(cancelling.message().id());
    assertThat(result.begun().get(cancelling.message().id()).run()).isEqualTo(before);
    assertThat(run(cancelling.id())).isEqualTo(before);
    StepVerifier.create(driver.claimRuns(new StoreParams.ClaimRuns(
            new StoreParams.Claim(Rows.uniqueName("missing"), 1, LEASE, null, t), RunTransitions.BEGIN)))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  // ---------------------------------------------------------------- steps under the run's lease
  //
  // Restated from the step-lease protocol: a step is written by whoever holds the run's message
  // lease, and what a worker needs to know of a recorded step comes back from beginRun's history.

  /** The run's message claimed by a new holder once the old lease has ended. */
  private Rows.Run takenOver(Rows.Run run, Instant at) {
    List<Message> claimed = claim(run.workflow(), 1, at).claimed();
    assertThat(claimed).extracting(Message::id).containsExactly(triggerMessage(run, MessageState.LIVE).id());
    return new Rows.Run(run.id(), run.workflow(), claimed.get(0));
  }

  @Test
  void aStepRecordedUnderTheRunsLeaseIsWrittenAsItsHoldersRecord() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(recordStep(at, record(run, "1", "charge", StepStatus.SUCCESS, "7", null, 1, null, null, 1,
        Duration.ZERO))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "charge", StepStatus.SUCCESS, 1, json("7"), null,
        null, at, at, at, "1"));
    // The run's lease is its message's: recording takes no lease of its own and leaves the message as claimed.
    assertThat(find(run.message().id())).isEqualTo(run.message());
  }

  @Test
  void aStepOfAQueuedRunIsRecordedUnderItsMessagesLease() {
    Instant t = start();
    // Claimed but not begun yet: the run is still QUEUED, and its holder may record.
    Rows.Run run = takenOver(rows.runIn(RunStatus.QUEUED, t), t);
    assertThat(recordStep(t, success(run, "1", "s", "1", 1)))
        .isEqualTo(new StoreResults.StepWritten(true, RunStatus.QUEUED));
    assertThat(steps(run.id())).extracting(StepInfo::attempts).containsExactly(1);
  }

  @Test
  void aStepIsRecordedByNoOneButTheLeaseHolderUntilTheLeaseEnds() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    StoreParams.RecordStep other = forgedLease(success(run, "1", "s", "1", 1));
    assertThat(recordStep(t.plusSeconds(1), other)).isEqualTo(REFUSED);
    assertThat(recordStep(t.plus(LEASE).minus(MS), other)).isEqualTo(REFUSED);
    // Only once the lease has ended can another worker take the run's message, and so record.
    assertThat(claim(run.workflow(), 1, t.plus(LEASE).minus(MS)).claimed()).isEmpty();
    Rows.Run next = takenOver(run, t.plus(LEASE));
    assertThat(recordStep(t.plus(LEASE), success(next, "1", "s", "2", 1))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::output).containsExactly(json("2"));
  }

  @Test
  void aNewHolderOfTheRunsMessageRecordsOverARetryKeepingItsStart() {
    Instant t = start();
    Rows.Run first = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t, retry(first, "1", "s", "down", 1, MS))).isEqualTo(WRITTEN);
    Rows.Run second = takenOver(first, t.plus(LEASE));
    assertThat(second.message().leaseToken()).isNotEqualTo(first.message().leaseToken());
    assertThat(begin(second.id(), t.plus(LEASE)).history())
        .extracting(StoreResults.StepRecord::status, StoreResults.StepRecord::attempts)
        .containsExactly(tuple(StepStatus.RETRY, 1));
    assertThat(recordStep(t.plus(LEASE), record(second, "1", "s", StepStatus.SUCCESS, "1", null, 2, null, null, 1,
        Duration.ZERO))).isEqualTo(WRITTEN);
    assertThat(steps(first.id())).extracting(StepInfo::attempts, StepInfo::startedAt, StepInfo::updatedAt)
        .containsExactly(tuple(2, t, t.plus(LEASE)));
  }

  @Test
  void beginRunReturnsARecordedStepsOutputWithItsType() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), success(run, "1", "s", "{\"v\": 1}", 1))).isEqualTo(WRITTEN);
    List<StoreResults.StepRecord> history = begin(run.id(), t.plusSeconds(2)).history();
    assertThat(history).hasSize(1);
    StoreResults.StepRecord recorded = history.get(0);
    assertThat(recorded.status()).isEqualTo(StepStatus.SUCCESS);
    assertThat(json(recorded.outputJson())).isEqualTo(json("{\"v\": 1}"));
    assertThat(recorded.outputType()).isEqualTo("java.lang.Integer");
    // Read again long after any lease would have ended, it is still the record.
    assertThat(begin(run.id(), t.plusSeconds(3600)).history()).isEqualTo(history);
  }

  @Test
  void beginRunReturnsAStepRecordedWithoutOutputAsAnEmptyRecord() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t, record(run, "1", "s", StepStatus.SUCCESS, null, null, 1, null, null, 1, Duration.ZERO)))
        .isEqualTo(WRITTEN);
    assertThat(begin(run.id(), t.plusSeconds(1)).history()).containsExactly(
        new StoreResults.StepRecord("1", "s", StepStatus.SUCCESS, null, null, null, 1, null, null, 1));
  }

  @Test
  void beginRunReturnsAFailedStepsErrorAndAttempts() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), retry(run, "1", "s", "timeout", 1, MS))).isEqualTo(WRITTEN);
    assertThat(recordStep(t.plusSeconds(2), record(run, "1", "s", StepStatus.ERROR, null, "card declined", 2, null,
        null, 1, Duration.ZERO))).isEqualTo(WRITTEN);
    assertThat(begin(run.id(), t.plusSeconds(3)).history()).containsExactly(
        new StoreResults.StepRecord("1", "s", StepStatus.ERROR, null, null, "card declined", 2, null, null, 1));
  }

  @Test
  void beginRunOfARunThatMayNotGoOnTellsItsStatusAndRecordsNothing() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.PAUSED, RunStatus.CANCELLING, RunStatus.SUCCESS, RunStatus.ERROR,
        RunStatus.CANCELLED)) {
      Rows.Run run = rows.runIn(status, t);
      StoreResults.RunBegun begun = begin(run.id(), t.plusSeconds(1));
      assertThat(begun.run().status()).as("a %s run", status).isEqualTo(status);
      assertThat(begun.history()).as("a %s run", status).isEmpty();
      assertThat(steps(run.id())).isEmpty();
    }
    StepVerifier.create(driver.beginRun(new StoreParams.BeginRun(Long.MAX_VALUE, RunTransitions.BEGIN, t)))
        .expectComplete().verify(T);
  }

  @Test
  void beginRunPastTheDeadlineTellsNoTimeIsLeft() {
    Instant t = start();
    String wf = rows.workflow(t);
    long id = trigger(wf, wf, null, null, Duration.ofMinutes(1), null, t).runId();
    assertThat(begin(id, t.plusSeconds(59)).untilDeadline()).isEqualTo(Duration.ofSeconds(1));
    assertThat(begin(id, t.plusSeconds(60)).untilDeadline()).isEqualTo(Duration.ZERO);
    StoreResults.RunBegun late = begin(id, t.plusSeconds(61));
    assertThat(late.untilDeadline()).isEqualTo(Duration.ZERO);
    // The store does not end the run itself: its worker (or the reaper) does.
    assertThat(late.run().status()).isEqualTo(RunStatus.RUNNING);
    assertThat(late.run().attempts()).isEqualTo(3);
  }

  @Test
  void recordStepsIsFencedByTheTokenAndWritesAFinishedStepOnce() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    List<StepInfo> before = steps(run.id());
    assertThat(recordStep(t.plusSeconds(1), forgedLease(success(run, "1", "s", "1", 1)))).isEqualTo(REFUSED);
    assertThat(steps(run.id())).isEqualTo(before);
    assertThat(recordStep(t.plusSeconds(1), success(run, "1", "s", "1", 1))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "s", StepStatus.SUCCESS, 1, json("1"), null,
        null, t.plusSeconds(1), t.plusSeconds(1), t.plusSeconds(1), "1"));
    assertThat(recordStep(t.plusSeconds(2), record(run, "1", "s", StepStatus.ERROR, null, "late", 1, null, null, 2,
        Duration.ZERO))).isEqualTo(REFUSED);
  }

  @Test
  void aStaleHolderOfTheRunsMessageIsRefusedAfterATakeover() {
    Instant t = start();
    Rows.Run stale = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t, retry(stale, "1", "s", "down", 1, MS))).isEqualTo(WRITTEN);
    Rows.Run current = takenOver(stale, t.plus(LEASE));
    assertThat(recordStep(t.plus(LEASE), success(stale, "1", "s", "1", 1))).isEqualTo(REFUSED);
    assertThat(steps(stale.id())).extracting(StepInfo::status).containsExactly(StepStatus.RETRY);
    assertThat(recordStep(t.plus(LEASE), success(current, "1", "s", "2", 1))).isEqualTo(WRITTEN);
  }

  @Test
  void extendingTheRunsMessageLeaseKeepsItsHolderRecording() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(driver.extend(new StoreParams.Extend(forged(run.message(), t.plusSeconds(1)), Duration.ofSeconds(60)))
        .blockOptional(T)).isEmpty();
    assertThat(driver.extend(new StoreParams.Extend(run.lease(t.plusSeconds(1)), Duration.ofSeconds(60))).block(T)
        .expiresAt()).isEqualTo(t.plusSeconds(61));
    Instant pastTheFirstLease = t.plus(LEASE).plusSeconds(1);
    assertThat(claim(run.workflow(), 1, pastTheFirstLease).claimed()).isEmpty();
    assertThat(recordStep(pastTheFirstLease, success(run, "1", "s", "1", 1))).isEqualTo(WRITTEN);
    assertThat(recordStep(t.plusSeconds(61), success(run, "2", "t", "2", 2))).isEqualTo(REFUSED);
  }

  @Test
  void extendingTheRunsMessageLeaseByZeroEndsItsHoldersRecords() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.extend(new StoreParams.Extend(run.lease(at), Duration.ZERO)).block(T).expiresAt()).isEqualTo(at);
    assertThat(recordStep(at, success(run, "1", "s", "1", 1))).isEqualTo(REFUSED);
    Rows.Run next = takenOver(run, at);
    assertThat(next.message().attempts()).isEqualTo(2);
    assertThat(recordStep(at, success(next, "1", "s", "1", 1))).isEqualTo(WRITTEN);
  }

  @Test
  void recordStepsTellsOfACancelThatArrivedWhileTheRunWasHeld() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(run.id(), StoreParams.RunControl.CANCEL, t.plusSeconds(1)).status())
        .isEqualTo(RunStatus.CANCELLING);
    assertThat(recordStep(t.plusSeconds(2), success(run, "1", "s", "1", 1)))
        .isEqualTo(new StoreResults.StepWritten(true, RunStatus.CANCELLING));
    assertThat(recordStep(t.plusSeconds(2), success(new Rows.Run(Long.MAX_VALUE, run.workflow(), run.message()), "1",
        "s", "1", 1))).isEqualTo(new StoreResults.StepWritten(false, null));
  }

  @Test
  void listStepsListsStepsInTheOrderFirstRecorded() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    for (String step : List.of("b", "a", "c")) {
      assertThat(recordStep(t, retry(run, step, step, "down", 1, MS))).isEqualTo(WRITTEN);
    }
    assertThat(recordStep(t.plusSeconds(1), retry(run, "b", "b", "down", 2, MS))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::attempts).containsExactly(
        tuple("b", 2), tuple("a", 1), tuple("c", 1));
    assertThat(steps(Long.MAX_VALUE)).isEmpty();
  }

  // ---------------------------------------------------------------- signals

  @Test
  void takeSignalTakesTheOldestPendingSignalOnceAcrossWaits() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "approval", "1", t.plusSeconds(1));
    signal(run, "approval", "2", t.plusSeconds(2));
    Instant at = t.plusSeconds(3);
    List<StoreResults.SignalTaken> taken = new ArrayList<>();
    for (String position : List.of("1", "2", "3")) {
      assertThat(recordStep(at, waiting(run, position, "wait-" + position, null, "approval"))).isEqualTo(WRITTEN);
      taken.add(takeSignal(run, run.lease(at), position, "wait-" + position, "approval", Integer.parseInt(position)));
    }
    assertThat(taken).containsExactly(new StoreResults.SignalTaken("1", true), new StoreResults.SignalTaken("2", true),
        new StoreResults.SignalTaken(null, true));
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::output).containsExactly(
        tuple("wait-1", StepStatus.SUCCESS, json("1")),
        tuple("wait-2", StepStatus.SUCCESS, json("2")),
        tuple("wait-3", StepStatus.WAITING, null));
    assertThat(begin(run.id(), at).history()).filteredOn(r -> r.stepId().equals("wait-1"))
        .containsExactly(new StoreResults.StepRecord("1", "wait-1", StepStatus.SUCCESS, "1", null, null, 0, null, null,
            1));
  }

  @Test
  void beginRunTellsWhichWaitsHaveASignalPending() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t, waiting(run, "1", "wait-a", null, "a"))).isEqualTo(WRITTEN);
    assertThat(recordStep(t, waiting(run, "2", "wait-b", null, "b"))).isEqualTo(WRITTEN);
    signal(run, "b", "1", t.plusSeconds(1));
    signal(run, "c", "2", t.plusSeconds(1));
    Instant at = t.plusSeconds(2);
    assertThat(begin(run.id(), at).history())
        .extracting(StoreResults.StepRecord::stepId, StoreResults.StepRecord::signalled)
        .containsExactly(tuple("wait-a", false), tuple("wait-b", true));
    // Taken, the signal is no longer pending: the step is SUCCESS and not signalled.
    assertThat(takeSignal(run, run.lease(at), "2", "wait-b", "b", 1)).isEqualTo(new StoreResults.SignalTaken("1", true));
    assertThat(begin(run.id(), at).history())
        .extracting(StoreResults.StepRecord::stepId, StoreResults.StepRecord::status, StoreResults.StepRecord::signalled)
        .containsExactly(tuple("wait-a", StepStatus.WAITING, false), tuple("wait-b", StepStatus.SUCCESS, false));
  }

  @Test
  void takeSignalUnderTheRunsLeaseTakesOnlyItsName() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "other", "1", t);
    assertThat(recordStep(t, waiting(run, "1", "wait", null, "approval"))).isEqualTo(WRITTEN);
    assertThat(takeSignal(run, run.lease(t), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    assertThat(takeSignal(run, run.lease(t), "2", "other", "other", 1))
        .isEqualTo(new StoreResults.SignalTaken("1", true));
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status)
        .containsExactly(tuple("wait", StepStatus.WAITING), tuple("other", StepStatus.SUCCESS));
  }

  @Test
  void takeSignalByAStaleHolderAfterATakeoverConsumesNothing() {
    Instant t = start();
    Rows.Run stale = rows.runIn(RunStatus.RUNNING, t);
    signal(stale, "approval", "\"yes\"", t);
    assertThat(recordStep(t, waiting(stale, "1", "wait", null, "approval"))).isEqualTo(WRITTEN);
    Rows.Run current = takenOver(stale, t.plus(LEASE));
    assertThat(takeSignal(stale, stale.lease(t.plus(LEASE)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, false));
    assertThat(steps(stale.id())).extracting(StepInfo::status).containsExactly(StepStatus.WAITING);
    assertThat(takeSignal(current, current.lease(t.plus(LEASE)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken("\"yes\"", true));
  }

  @Test
  void signalRunReturnsTheRun() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    RunInfo before = run(run.id());
    assertThat(driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "1", t)).block(T)).isEqualTo(before);
  }

  @Test
  void signalRunOfAFinishedRunFailsWithRunState() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.CANCELLED)) {
      Rows.Run run = rows.runIn(status, t);
      StepVerifier.create(driver.signalRun(new StoreParams.SignalRun(run.id(), "approval", "1", t)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunStateException.class,
              x -> assertThat(x.status()).isEqualTo(status)))
          .verify(T);
    }
  }

  @Test
  void signalRunOfAMissingRunFailsWithRunNotFound() {
    StepVerifier.create(driver.signalRun(new StoreParams.SignalRun(Long.MAX_VALUE, "approval", "1", null)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunNotFoundException.class,
            x -> assertThat(x.runId()).isEqualTo(Long.MAX_VALUE)))
        .verify(T);
  }

  // ---------------------------------------------------------------- control

  @Test
  void pauseAndResumeOfAQueuedRun() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.QUEUED, t);
    assertThat(control(run.id(), StoreParams.RunControl.PAUSE, t.plusSeconds(1)).status()).isEqualTo(RunStatus.PAUSED);
    assertThat(control(run.id(), StoreParams.RunControl.PAUSE, t.plusSeconds(2)).status()).isEqualTo(RunStatus.PAUSED);
    RunInfo resumed = control(run.id(), StoreParams.RunControl.RESUME, t.plusSeconds(3));
    assertThat(resumed.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(resumed.startedAt()).isNull();
  }

  @Test
  void pauseAndResumeOfARunningRun() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(run.id(), StoreParams.RunControl.PAUSE, t.plusSeconds(1)).status()).isEqualTo(RunStatus.PAUSED);
    RunInfo resumed = control(run.id(), StoreParams.RunControl.RESUME, t.plusSeconds(2));
    assertThat(resumed.status()).isEqualTo(RunStatus.RUNNING);
    assertThat(resumed.startedAt()).isEqualTo(t);
    assertThat(find(run.message().id())).isEqualTo(run.message());
  }

  @Test
  void resumeOfARunThatIsNotPausedFailsWithRunState() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.CANCELLING, RunStatus.SUCCESS,
        RunStatus.CANCELLED)) {
      controlFails(rows.runIn(status, t).id(), StoreParams.RunControl.RESUME, status, t.plusSeconds(1));
    }
  }

  @Test
  void pauseOfACancellingOrFinishedRunFailsWithRunState() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.CANCELLING, RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.CANCELLED)) {
      controlFails(rows.runIn(status, t).id(), StoreParams.RunControl.PAUSE, status, t.plusSeconds(1));
    }
  }

  @Test
  void cancelOfAFinishedRunFailsWithRunState() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.SUCCESS, RunStatus.ERROR)) {
      controlFails(rows.runIn(status, t).id(), StoreParams.RunControl.CANCEL, status, t.plusSeconds(1));
    }
  }

  @Test
  void controlOfAMissingRunFailsWithRunNotFound() {
    StepVerifier.create(driver.controlRun(RunTransitions.control(Long.MAX_VALUE, StoreParams.RunControl.CANCEL,
            "x", null)))
        .expectError(RunNotFoundException.class)
        .verify(T);
  }

  @Test
  void cancelOfAQueuedRunEndsItAtOnceAndArchivesItsMessage() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.QUEUED, t);
    Instant at = t.plusSeconds(1);
    RunInfo cancelled = control(run.id(), StoreParams.RunControl.CANCEL, at);
    assertThat(cancelled).isEqualTo(new RunInfo(run.id(), run.workflow(), RunStatus.CANCELLED,
        json("{\"order\": 1}"), null, "stop", null, 0, 0, t, null, at, null));
    Message m = triggerMessage(run, MessageState.ARCHIVED);
    assertThat(m.archivedAt()).isEqualTo(at);
    assertThat(control(run.id(), StoreParams.RunControl.CANCEL, t.plusSeconds(2))).isEqualTo(cancelled);
  }

  @Test
  void cancelOfARunningRunLeavesItCancellingForItsWorker() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    RunInfo cancelling = control(run.id(), StoreParams.RunControl.CANCEL, t.plusSeconds(1));
    assertThat(cancelling.status()).isEqualTo(RunStatus.CANCELLING);
    assertThat(cancelling.error()).isEqualTo("stop");
    assertThat(cancelling.finishedAt()).isNull();
    assertThat(find(run.message().id())).isEqualTo(run.message());
    assertThat(control(run.id(), StoreParams.RunControl.CANCEL, t.plusSeconds(2))).isEqualTo(cancelling);
  }

  @Test
  void aCancellingRunEndsCancelledWhateverItsWorkerReports() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.CANCELLING, t);
    Instant at = t.plusSeconds(2);
    assertThat(finishRun(run.id(), run.lease(at), RunStatus.SUCCESS, "{\"total\": 3}", null, at))
        .isEqualTo(RunStatus.CANCELLED);
    assertThat(run(run.id())).isEqualTo(new RunInfo(run.id(), run.workflow(), RunStatus.CANCELLED,
        json("{\"order\": 1}"), null, "stop", null, 1, 0, t, t, at, null));
    assertThat(find(run.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
  }

  // ---------------------------------------------------------------- restart and fork

  private Mono<RunInfo> restartRun(long runId, String queue, Instant at) {
    return driver.restartRun(new StoreParams.RestartRun(runId, RunTransitions.RESTART, queue, at));
  }

  private Mono<RunInfo> forkRun(long runId, String fromStepId, String queue, Instant at) {
    return driver.forkRun(new StoreParams.ForkRun(runId, fromStepId, RunTransitions.FORKABLE, queue, at));
  }

  /** A run that recorded steps a, b (both successful) and c (failed), then ended with {@code outcome}. */
  private Rows.Run runWithThreeSteps(RunStatus outcome, Instant t) {
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), success(run, "1", "a", "1", 1))).isEqualTo(WRITTEN);
    assertThat(recordStep(t.plusSeconds(1), success(run, "2", "b", "2", 2))).isEqualTo(WRITTEN);
    assertThat(recordStep(t.plusSeconds(1), record(run, "3", "c", StepStatus.ERROR, null, "card declined", 1, null,
        null, 0, Duration.ZERO))).isEqualTo(WRITTEN);
    Instant at = t.plusSeconds(2);
    assertThat(finishRun(run.id(), run.lease(at), outcome, outcome == RunStatus.SUCCESS ? "{\"total\": 3}" : null,
        outcome == RunStatus.SUCCESS ? null : "boom", at)).isEqualTo(outcome);
    return run;
  }

  @Test
  void restartRunQueuesAFailedRunAgainWithANewMessageAndOnlyItsSuccessfulSteps() {
    Instant t = start();
    Rows.Run run = runWithThreeSteps(RunStatus.ERROR, t);
    Instant at = t.plusSeconds(3);
    RunInfo restarted = restartRun(run.id(), run.workflow(), at).block(T);
    assertThat(restarted).isEqualTo(run(run.id()));
    assertThat(restarted.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(restarted.id()).isEqualTo(run.id());
    assertThat(restarted.output()).isNull();
    assertThat(restarted.error()).isNull();
    assertThat(restarted.finishedAt()).isNull();
    assertThat(restarted.failures()).isZero();
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::output)
        .containsExactlyInAnyOrder(tuple("a", StepStatus.SUCCESS, json("1")), tuple("b", StepStatus.SUCCESS, json("2")));
    Message fresh = triggerMessage(run, MessageState.LIVE);
    assertThat(fresh.id()).isNotEqualTo(run.message().id());
    assertThat(fresh.visibleAt()).isEqualTo(at);
    assertThat(fresh.attempts()).isZero();
    assertThat(find(run.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
    // The queued run begins again, with its successful steps as its history.
    assertThat(begin(run.id(), t.plusSeconds(4)).history()).extracting(StoreResults.StepRecord::status)
        .containsExactly(StepStatus.SUCCESS, StepStatus.SUCCESS);
  }

  @Test
  void restartRunQueuesACancelledRunAgain() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.CANCELLED, t);
    RunInfo restarted = restartRun(run.id(), run.workflow(), t.plusSeconds(1)).block(T);
    assertThat(restarted.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(restarted.error()).isNull();
    assertThat(triggerMessage(run, MessageState.LIVE).visibleAt()).isEqualTo(t.plusSeconds(1));
  }

  @Test
  void restartRunRefusesAStatusItsTableDoesNotMoveAndAMissingRunAndChangesNothing() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CANCELLING,
        RunStatus.SUCCESS)) {
      Rows.Run run = rows.runIn(status, t);
      RunInfo before = run(run.id());
      StepVerifier.create(restartRun(run.id(), run.workflow(), t.plusSeconds(1)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunStateException.class, r -> {
            assertThat(r.runId()).isEqualTo(run.id());
            assertThat(r.status()).isEqualTo(status);
          }))
          .verify(T);
      assertThat(run(run.id())).isEqualTo(before);
    }
    StepVerifier.create(restartRun(Long.MAX_VALUE, "nobody", t)).expectError(RunNotFoundException.class).verify(T);
  }

  @Test
  void aSecondRestartOfTheSameRunIsRefused() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.ERROR, t);
    assertThat(restartRun(run.id(), run.workflow(), t.plusSeconds(1)).block(T).status()).isEqualTo(RunStatus.QUEUED);
    StepVerifier.create(restartRun(run.id(), run.workflow(), t.plusSeconds(2)))
        .expectError(RunStateException.class)
        .verify(T);
    assertThat(triggerMessage(run, MessageState.LIVE).visibleAt()).isEqualTo(t.plusSeconds(1));
  }

  @Test
  void forkRunCreatesANewQueuedRunWithCopiesOfTheStepsCompletedBeforeItsStep() {
    Instant t = start();
    for (RunStatus outcome : List.of(RunStatus.SUCCESS, RunStatus.ERROR)) {
      Rows.Run run = runWithThreeSteps(outcome, t);
      RunInfo original = run(run.id());
      List<StepInfo> originalSteps = steps(run.id());
      Instant at = t.plusSeconds(3);
      RunInfo fork = forkRun(run.id(), "b", run.workflow(), at).block(T);
      assertThat(fork).isEqualTo(run(fork.id()));
      assertThat(fork.id()).isNotEqualTo(run.id());
      assertThat(fork.workflow()).isEqualTo(run.workflow());
      assertThat(fork.status()).isEqualTo(RunStatus.QUEUED);
      assertThat(fork.input()).isEqualTo(original.input());
      assertThat(fork.output()).isNull();
      assertThat(fork.createdAt()).isEqualTo(at);
      assertThat(steps(fork.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::output)
          .containsExactly(tuple("a", StepStatus.SUCCESS, json("1")));
      assertThat(driver.listMessages(new StoreParams.ListMessages(run.workflow(), MessageState.LIVE, 0, 1000))
          .filter(m -> m.payload().path("run_id").asLong() == fork.id()).single().block(T).visibleAt())
          .isEqualTo(at);
      assertThat(run(run.id())).isEqualTo(original);
      assertThat(steps(run.id())).isEqualTo(originalSteps);
      // From a step that never completed, every completed step is copied.
      assertThat(steps(forkRun(run.id(), "c", run.workflow(), at).block(T).id())).extracting(StepInfo::stepId)
          .containsExactlyInAnyOrder("a", "b");
    }
  }

  @Test
  void forkRunRefusesAnUnknownStepAnUnfinishedRunAndAMissingRun() {
    Instant t = start();
    Rows.Run finished = runWithThreeSteps(RunStatus.SUCCESS, t);
    StepVerifier.create(forkRun(finished.id(), "nope", finished.workflow(), t.plusSeconds(3)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("nope"))
        .verify(T);
    for (RunStatus status : List.of(RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.CANCELLING)) {
      Rows.Run run = rows.runIn(status, t);
      StepVerifier.create(forkRun(run.id(), "a", run.workflow(), t.plusSeconds(1)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunStateException.class,
              r -> assertThat(r.status()).isEqualTo(status)))
          .verify(T);
    }
    StepVerifier.create(forkRun(Long.MAX_VALUE, "a", "nobody", t)).expectError(RunNotFoundException.class).verify(T);
    assertThat(driver.listMessages(new StoreParams.ListMessages(finished.workflow(), MessageState.LIVE, 0, 1000))
        .collectList().block(T)).isEmpty();
  }

  // ---------------------------------------------------------------- finishing and suspending

  @Test
  void finishRunArchivesTheMessageAndRecordsTheOutcome() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(finishRun(run.id(), run.lease(at), RunStatus.SUCCESS, "{\"total\": 3}", null, at))
        .isEqualTo(RunStatus.SUCCESS);
    assertThat(run(run.id())).isEqualTo(new RunInfo(run.id(), run.workflow(), RunStatus.SUCCESS,
        json("{\"order\": 1}"), json("{\"total\": 3}"), null, null, 1, 0, t, t, at, null));
    Message m = find(run.message().id());
    assertThat(m.state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(m.archivedAt()).isEqualTo(at);
  }

  @Test
  void finishRunWithAnErrorRecordsIt() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(finishRun(run.id(), run.lease(at), RunStatus.ERROR, null, "boom", at)).isEqualTo(RunStatus.ERROR);
    RunInfo failed = run(run.id());
    assertThat(failed.status()).isEqualTo(RunStatus.ERROR);
    assertThat(failed.error()).isEqualTo("boom");
    assertThat(failed.output()).isNull();
    assertThat(failed.finishedAt()).isEqualTo(at);
  }

  @Test
  void finishRunOfAFinishedRunChangesNothing() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.CANCELLED)) {
      Rows.Run run = rows.runIn(status, t);
      RunInfo before = run(run.id());
      StepVerifier.create(driver.finishRun(new StoreParams.FinishRun(run.id(), null, RunStatus.ERROR, RunTransitions.finish(RunStatus.ERROR), null, "late",
              t.plusSeconds(1))))
          .as("finishing a " + status + " run")
          .expectComplete()
          .verify(T);
      assertThat(run(run.id())).isEqualTo(before);
    }
  }

  @Test
  void finishRunWithALostLeaseChangesNothing() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    RunInfo before = run(run.id());
    Instant late = t.plus(LEASE).plus(MS);
    assertThat(finishRun(run.id(), run.lease(late), RunStatus.SUCCESS, "1", null, late)).isNull();
    Instant early = t.plusSeconds(1);
    assertThat(finishRun(run.id(), forged(run.message(), early), RunStatus.SUCCESS, "1", null, early)).isNull();
    assertThat(run(run.id())).isEqualTo(before);
    assertThat(find(run.message().id())).isEqualTo(run.message());
  }

  @Test
  void finishRunsFinishesEachRunOfTheBatchOnItsOwnLease() {
    Instant t = start();
    Rows.Run succeeds = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run forgedLease = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    Rows.Run finished = rows.runIn(RunStatus.SUCCESS, t);
    Rows.Run fails = rows.runIn(RunStatus.RUNNING, t);
    RunInfo forgedBefore = run(forgedLease.id());
    RunInfo finishedBefore = run(finished.id());
    Instant at = t.plusSeconds(1);
    List<StoreResults.RunFinished> results = driver.finishRuns(new StoreParams.FinishRuns(List.of(
        new StoreParams.FinishRun(succeeds.id(), succeeds.lease(at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "{\"total\": 3}", null, null),
        new StoreParams.FinishRun(forgedLease.id(), forged(forgedLease.message(), at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "1", null, null),
        new StoreParams.FinishRun(cancelling.id(), cancelling.lease(at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "2", null, null),
        // A finished run's message is archived: whatever lease is given, nothing changes.
        new StoreParams.FinishRun(finished.id(), new StoreParams.LeaseRef(0, UUID.randomUUID(), at), RunStatus.ERROR,
            RunTransitions.finish(RunStatus.ERROR), null, "late", null),
        new StoreParams.FinishRun(fails.id(), fails.lease(at), RunStatus.ERROR,
            RunTransitions.finish(RunStatus.ERROR), null, "boom", null)), at)).block(T);
    assertThat(results).containsExactly(
        new StoreResults.RunFinished(succeeds.id(), RunStatus.SUCCESS),
        new StoreResults.RunFinished(forgedLease.id(), null),
        new StoreResults.RunFinished(cancelling.id(), RunStatus.CANCELLED),
        new StoreResults.RunFinished(finished.id(), null),
        new StoreResults.RunFinished(fails.id(), RunStatus.ERROR));
    assertThat(run(succeeds.id())).isEqualTo(new RunInfo(succeeds.id(), succeeds.workflow(), RunStatus.SUCCESS,
        json("{\"order\": 1}"), json("{\"total\": 3}"), null, null, 1, 0, t, t, at, null));
    assertThat(find(succeeds.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(run(forgedLease.id())).isEqualTo(forgedBefore);
    assertThat(find(forgedLease.message().id())).isEqualTo(forgedLease.message());
    RunInfo cancelled = run(cancelling.id());
    assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(cancelled.error()).as("the cancel's reason is kept").isEqualTo("stop");
    assertThat(cancelled.output()).isNull();
    assertThat(find(cancelling.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(run(finished.id())).isEqualTo(finishedBefore);
    RunInfo failed = run(fails.id());
    assertThat(failed.status()).isEqualTo(RunStatus.ERROR);
    assertThat(failed.error()).isEqualTo("boom");
    assertThat(failed.finishedAt()).isEqualTo(at);
    assertThat(find(fails.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
  }

  @Test
  void finishRunsWithExpiredLeasesChangesNothingAndAnEmptyBatchIsEmpty() {
    Instant t = start();
    Rows.Run first = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run second = rows.runIn(RunStatus.RUNNING, t);
    RunInfo firstBefore = run(first.id());
    RunInfo secondBefore = run(second.id());
    Instant late = t.plus(LEASE).plus(MS);
    List<StoreResults.RunFinished> results = driver.finishRuns(new StoreParams.FinishRuns(List.of(
        new StoreParams.FinishRun(first.id(), first.lease(late), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "1", null, null),
        new StoreParams.FinishRun(second.id(), second.lease(late), RunStatus.ERROR,
            RunTransitions.finish(RunStatus.ERROR), null, "x", null)), late)).block(T);
    assertThat(results).containsExactly(new StoreResults.RunFinished(first.id(), null),
        new StoreResults.RunFinished(second.id(), null));
    assertThat(run(first.id())).isEqualTo(firstBefore);
    assertThat(run(second.id())).isEqualTo(secondBefore);
    assertThat(find(first.message().id())).isEqualTo(first.message());
    assertThat(find(second.message().id())).isEqualTo(second.message());
    assertThat(driver.finishRuns(new StoreParams.FinishRuns(List.of(), late)).block(T)).isEmpty();
  }

  @Test
  void finishRunsWritesEachRunsTailOfStepsWithItsFinishAndOnlyThen() {
    Instant t = start();
    Rows.Run succeeds = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run forgedLease = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    Rows.Run expired = rows.runIn(RunStatus.RUNNING, t);
    // A retried step whose last attempt ends the run: the tail overwrites its RETRY record.
    assertThat(recordStep(t, retry(succeeds, "2", "ship", "down", 1, MS))).isEqualTo(WRITTEN);
    Instant at = t.plusSeconds(5);
    Instant late = t.plus(LEASE).plus(MS);
    StoreParams.RecordStep charged = record(succeeds, "1", "charge", StepStatus.SUCCESS, "42", null, 1, null, null, 1,
        Duration.ofSeconds(2));
    StoreParams.RecordStep shipped = record(succeeds, "2", "ship", StepStatus.ERROR, null, "declined", 2, null, null,
        2, Duration.ofSeconds(1));
    List<StoreResults.RunFinished> results = driver.finishRuns(new StoreParams.FinishRuns(List.of(
        new StoreParams.FinishRun(succeeds.id(), succeeds.lease(at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "3", null, null, List.of(charged, shipped)),
        new StoreParams.FinishRun(forgedLease.id(), forged(forgedLease.message(), at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "1", null, null,
            List.of(success(forgedLease, "1", "s", "1", 1))),
        new StoreParams.FinishRun(cancelling.id(), cancelling.lease(at), RunStatus.SUCCESS,
            RunTransitions.finish(RunStatus.SUCCESS), "2", null, null, List.of(success(cancelling, "1", "s", "7", 1)))),
        at)).block(T);
    assertThat(results).containsExactly(
        new StoreResults.RunFinished(succeeds.id(), RunStatus.SUCCESS),
        new StoreResults.RunFinished(forgedLease.id(), null),
        new StoreResults.RunFinished(cancelling.id(), RunStatus.CANCELLED));
    assertThat(driver.finishRuns(new StoreParams.FinishRuns(List.of(new StoreParams.FinishRun(expired.id(),
        expired.lease(late), RunStatus.SUCCESS, RunTransitions.finish(RunStatus.SUCCESS), "1", null, null,
        List.of(success(expired, "1", "s", "1", 1)))), late)).block(T))
        .containsExactly(new StoreResults.RunFinished(expired.id(), null));
    assertThat(steps(succeeds.id())).containsExactlyInAnyOrder(
        new StepInfo(succeeds.id(), "charge", StepStatus.SUCCESS, 1, json("42"), null, null, at.minusSeconds(2), at,
            at, "1"),
        new StepInfo(succeeds.id(), "ship", StepStatus.ERROR, 2, null, "declined", null, t, at, at, "2"));
    assertThat(driver.beginRun(new StoreParams.BeginRun(succeeds.id(), RunTransitions.BEGIN, at)).block(T).history())
        .as("the tail keeps its completion order")
        .extracting(StoreResults.StepRecord::stepId, StoreResults.StepRecord::completion)
        .containsExactly(tuple("charge", 1), tuple("ship", 2));
    assertThat(steps(forgedLease.id())).as("a finish that moved nothing writes no tail").isEmpty();
    assertThat(steps(expired.id())).as("a finish after the lease expired writes no tail").isEmpty();
    assertThat(run(cancelling.id()).status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(steps(cancelling.id())).as("the run moved (its cancel ended it), so its last step is kept")
        .extracting(StepInfo::stepId, StepInfo::status)
        .containsExactly(tuple("s", StepStatus.SUCCESS));
  }

  @Test
  void finishRunAloneWritesItsTailUnderItsLease() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.finishRun(new StoreParams.FinishRun(run.id(), run.lease(at), RunStatus.ERROR,
        RunTransitions.finish(RunStatus.ERROR), null, "boom", at,
        List.of(record(run, "1", "s", StepStatus.ERROR, null, "boom", 1, null, null, 1, Duration.ZERO)))).block(T))
        .isEqualTo(RunStatus.ERROR);
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::error)
        .containsExactly(tuple("s", StepStatus.ERROR, "boom"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new StoreParams.FinishRun(run.id(), null, RunStatus.ERROR,
        RunTransitions.finish(RunStatus.ERROR), null, "boom", at, List.of(success(run, "2", "t", "1", 2))))
        .as("a tail only under the run's lease")
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new StoreParams.FinishRun(run.id(), run.lease(at), RunStatus.ERROR,
        RunTransitions.finish(RunStatus.ERROR), null, "boom", at, List.of(retry(run, "2", "t", "x", 1, MS))))
        .as("a tail of finished steps only")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void finishRunWithoutALeaseArchivesTheUnleasedMessage() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.QUEUED, t);
    Instant at = t.plusSeconds(1);
    assertThat(finishRun(run.id(), null, RunStatus.ERROR, null, "gave up", at)).isEqualTo(RunStatus.ERROR);
    assertThat(triggerMessage(run, MessageState.ARCHIVED).archivedAt()).isEqualTo(at);
    assertThat(run(run.id()).finishedAt()).isEqualTo(at);
  }

  @Test
  void suspendRunReleasesTheMessageWithAttemptsReset() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(run.id(), run.lease(at), null, false, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T)).isTrue();
    Message m = run.message();
    assertThat(find(m.id())).isEqualTo(new Message(m.id(), run.workflow(), m.payload(), MessageState.LIVE, 0, 0,
        t, at, null, null, null, null, null, null));
    RunInfo after = run(run.id());
    assertThat(after.status()).isEqualTo(RunStatus.RUNNING);
    assertThat(after.failures()).isZero();
    assertThat(claim(run.workflow(), 1, at).claimed()).extracting(Message::attempts).containsExactly(1);
  }

  @Test
  void suspendRunOfAFailedAttemptCountsAFailure() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(run.id(), run.lease(at), null, true, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T)).isTrue();
    assertThat(run(run.id()).failures()).isEqualTo(1);
  }

  @Test
  void suspendRunWithALostLeaseChangesNothing() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(run.id(), forged(run.message(), at), null, true, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T))
        .isFalse();
    Instant late = t.plus(LEASE).plus(MS);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(run.id(), run.lease(late), null, true, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).block(T))
        .isFalse();
    assertThat(find(run.message().id())).isEqualTo(run.message());
    assertThat(run(run.id()).failures()).isZero();
  }

  @Test
  void aSuspendedPausedRunWaitsUntilResumed() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.PAUSED, t);
    assertThat(driver.suspendRun(new StoreParams.SuspendRun(run.id(), run.lease(t.plusSeconds(1)), null, false, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED))
        .block(T)).isTrue();
    assertThat(claim(run.workflow(), 1, t.plus(Duration.ofDays(36_500))).claimed()).isEmpty();
    Instant resumedAt = t.plusSeconds(2);
    assertThat(control(run.id(), StoreParams.RunControl.RESUME, resumedAt).status()).isEqualTo(RunStatus.RUNNING);
    assertThat(find(run.message().id()).visibleAt()).isEqualTo(resumedAt);
    assertThat(claimedIds(run.workflow(), 1, resumedAt)).containsExactly(run.message().id());
  }

  // ---------------------------------------------------------------- listing runs

  @Test
  void listRunsFiltersByWorkflowStatusAndCreationTimeNewestFirst() {
    Instant t = start();
    String wf = rows.workflow(t);
    long first = rows.queuedRun(wf, t).id();
    long second = rows.queuedRun(wf, t.plusSeconds(1)).id();
    long third = rows.queuedRun(wf, t.plusSeconds(2)).id();
    rows.queuedRun(rows.workflow(t), t.plusSeconds(1));
    control(second, StoreParams.RunControl.CANCEL, t.plusSeconds(3));
    Function<RunQuery, List<Long>> list = q -> driver.listRuns(new StoreParams.ListRuns(q)).map(RunInfo::id)
        .collectList().block(T);
    RunQuery ofWorkflow = RunQuery.all().withWorkflow(wf);
    assertThat(list.apply(ofWorkflow)).containsExactly(third, second, first);
    assertThat(list.apply(ofWorkflow.withStatus(RunStatus.CANCELLED))).containsExactly(second);
    assertThat(list.apply(ofWorkflow.withStatus(RunStatus.QUEUED))).containsExactly(third, first);
    assertThat(list.apply(ofWorkflow.withCreatedBetween(t.plusSeconds(1), t.plusSeconds(2)))).containsExactly(second);
    assertThat(list.apply(ofWorkflow.withCreatedBetween(t.plusSeconds(1), null))).containsExactly(third, second);
  }

  @Test
  void listRunsPagesByBeforeId() {
    Instant t = start();
    String wf = rows.workflow(t);
    long first = rows.queuedRun(wf, t).id();
    long second = rows.queuedRun(wf, t).id();
    long third = rows.queuedRun(wf, t).id();
    Function<RunQuery, List<Long>> list = q -> driver.listRuns(new StoreParams.ListRuns(q)).map(RunInfo::id)
        .collectList().block(T);
    RunQuery page = RunQuery.all().withWorkflow(wf).withLimit(2);
    assertThat(list.apply(page)).containsExactly(third, second);
    assertThat(list.apply(page.withBeforeId(second))).containsExactly(first);
    assertThat(list.apply(page.withBeforeId(first))).isEmpty();
  }

  @Test
  void aLinkedChildNamesItsParentAndListsByParentAndTheLinkIsIdempotent() {
    Instant t = start();
    String wf = rows.workflow(t);
    long parent = rows.queuedRun(wf, t).id();
    long other = rows.queuedRun(wf, t).id();
    long child = rows.queuedRun(wf, t).id();
    long left = rows.queuedRun(wf, t).id();
    assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(child, parent, true)).block(T)).isTrue();
    assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(child, parent, true)).block(T)).isTrue();
    assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(left, parent, false)).block(T)).isTrue();
    // A child keeps its first parent.
    assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(child, other, true)).block(T)).isFalse();
    assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(Long.MAX_VALUE, parent, true)).block(T)).isFalse();
    assertThat(driver.findRun(child).block(T).parentRunId()).isEqualTo(parent);
    assertThat(driver.findRun(parent).block(T).parentRunId()).isNull();
    assertThat(driver.listRuns(new StoreParams.ListRuns(RunQuery.all().parent(parent))).map(RunInfo::id)
        .collectList().block(T)).containsExactly(left, child);
    assertThat(driver.listRuns(new StoreParams.ListRuns(RunQuery.all().parent(other))).collectList().block(T))
        .isEmpty();
    assertThat(driver.childrenCancelledWithParent(parent).collectList().block(T)).containsExactly(child);
    control(child, StoreParams.RunControl.CANCEL, t.plusSeconds(1));
    assertThat(driver.childrenCancelledWithParent(parent).collectList().block(T)).isEmpty();
  }

  @Test
  void aTriggerNamingAParentLinksTheNewRunInItsStatementQueuedOrLeased() {
    Instant t = start();
    String wf = rows.workflow(t);
    long parent = rows.queuedRun(wf, t).id();
    StoreResults.Triggered queued = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", "child:a", null,
        null, t, null, parent, true)).block(T);
    StoreResults.Triggered leased = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", "child:b", null,
        new StoreParams.LeaseTaking(rows.worker(wf, t).id(), LEASE), t, null, parent, false)).block(T);
    assertThat(leased.leased()).isNotNull();
    assertThat(driver.findRun(queued.runId()).block(T).parentRunId()).isEqualTo(parent);
    assertThat(driver.findRun(leased.runId()).block(T).parentRunId()).isEqualTo(parent);
    // cancelWithParent is stored as given: only the first is a child the parent's cancel cancels.
    assertThat(driver.childrenCancelledWithParent(parent).collectList().block(T)).containsExactly(queued.runId());
    // A trigger whose key is taken leaves the existing run's parent as it is.
    long other = rows.queuedRun(wf, t).id();
    StoreResults.Triggered again = driver.triggerRun(new StoreParams.TriggerRun(wf, wf, null, "{}", "child:a", null,
        null, t, null, other, true)).block(T);
    assertThat(again).isEqualTo(new StoreResults.Triggered(queued.runId(), false));
    assertThat(driver.findRun(queued.runId()).block(T).parentRunId()).isEqualTo(parent);
    assertThat(driver.findRun(other).block(T).parentRunId()).isNull();
  }

  @Test
  void uncancelledChildrenAreTheCancelledParentsChildrenNoCancelReached() {
    Instant t = start();
    String wf = rows.workflow(t);
    long cancelled = rows.queuedRun(wf, t).id();
    long running = rows.queuedRun(wf, t).id();
    long reached = rows.queuedRun(wf, t).id();
    long missed = rows.queuedRun(wf, t).id();
    long left = rows.queuedRun(wf, t).id();
    long ofRunning = rows.queuedRun(wf, t).id();
    for (long[] link : new long[][] {{reached, cancelled, 1}, {missed, cancelled, 1}, {left, cancelled, 0},
        {ofRunning, running, 1}}) {
      assertThat(driver.linkChildRun(new StoreParams.LinkChildRun(link[0], link[1], link[2] == 1)).block(T)).isTrue();
    }
    control(cancelled, StoreParams.RunControl.CANCEL, t.plusSeconds(1));
    control(reached, StoreParams.RunControl.CANCEL, t.plusSeconds(1));
    StoreParams.CancelledParentsChildren query = new StoreParams.CancelledParentsChildren(10,
        RunTransitions.CASCADE_FROM, RunTransitions.CANCEL_FREE.from());
    assertThat(driver.uncancelledChildren(query).collectList().block(T))
        .containsExactly(new StoreResults.UncancelledChild(missed, cancelled));
    assertThat(driver.uncancelledChildren(new StoreParams.CancelledParentsChildren(10, RunTransitions.CASCADE_FROM,
        List.of(RunStatus.RUNNING))).collectList().block(T)).isEmpty();
    control(missed, StoreParams.RunControl.CANCEL, t.plusSeconds(2));
    assertThat(driver.uncancelledChildren(query).collectList().block(T)).isEmpty();
  }

  // ---------------------------------------------------------------- waits and retries replayed

  @Test
  void aWaitingStepIsRecordedOverWhenItsWaitEnds() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), waiting(run, "1", "wait", null, "approval"))).isEqualTo(WRITTEN);
    assertThat(begin(run.id(), t.plusSeconds(2)).history()).containsExactly(
        new StoreResults.StepRecord("1", "wait", StepStatus.WAITING, null, null, null, 0, null, "approval", 0));
    // Replayed, the wait ends (here it gives up) and its record is written over the WAITING one.
    assertThat(recordStep(t.plusSeconds(2), record(run, "1", "wait", StepStatus.ERROR, null, "no approval", 0, null,
        null, 1, Duration.ZERO))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "wait", StepStatus.ERROR, 0, null,
        "no approval", null, t.plusSeconds(1), t.plusSeconds(2), t.plusSeconds(2), "1"));
  }

  @Test
  void aWaitingStepsDueTimeSurvivesATakeoverOfTheRun() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    // Due at t + 60s.
    assertThat(recordStep(t.plusSeconds(1), waiting(run, "1", "nap", Duration.ofSeconds(59), null)))
        .isEqualTo(WRITTEN);
    assertThat(begin(run.id(), t.plusSeconds(2)).history()).extracting(StoreResults.StepRecord::untilWake)
        .containsExactly(Duration.ofSeconds(58));
    // The holder died: its lease ran out, another worker takes the run and replays the wait.
    Rows.Run next = takenOver(run, t.plus(LEASE));
    assertThat(begin(next.id(), t.plus(LEASE).plusSeconds(1)).history()).extracting(StoreResults.StepRecord::untilWake)
        .containsExactly(Duration.ofSeconds(29));
    assertThat(recordStep(t.plus(LEASE).plusSeconds(1), waiting(next, "1", "nap", null, null))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::wakeAt).containsExactly(t.plusSeconds(60));
  }

  @Test
  void aDueRetryIsToldDueAtOnceAndItsDueTimeIsClearedByItsRecord() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant due = t.plusSeconds(5);
    assertThat(recordStep(t.plusSeconds(1), retry(run, "1", "charge", "declined",
        1, Duration.between(t.plusSeconds(1), due)))).isEqualTo(WRITTEN);
    assertThat(begin(run.id(), due.minus(MS)).history()).extracting(StoreResults.StepRecord::untilWake)
        .containsExactly(MS);
    assertThat(begin(run.id(), due).history()).extracting(StoreResults.StepRecord::untilWake)
        .containsExactly(Duration.ZERO);
    assertThat(begin(run.id(), due.plusSeconds(1)).history()).extracting(StoreResults.StepRecord::untilWake)
        .containsExactly(Duration.ZERO);
    assertThat(recordStep(due, record(run, "1", "charge", StepStatus.SUCCESS, "1", null, 2, null, null, 1,
        Duration.ZERO))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::status, StepInfo::wakeAt)
        .containsExactly(tuple(StepStatus.SUCCESS, null));
  }

  // ---------------------------------------------------------------- ids are never reused

  @Test
  void theIdOfADeletedMessageIsNotReused() {
    Instant t = start();
    String q = rows.queue(t);
    Message m = rows.leasedMessage(q, t);
    assertThat(driver.delete(ref(m, t)).block(T)).isTrue();
    assertThat(rows.liveMessage(q, t).id()).isGreaterThan(m.id());
  }

  @Test
  void theIdOfADeletedWorkerIsNotReused() {
    Instant t = start();
    WorkerInfo w = rows.worker(null, t);
    assertThat(driver.deleteWorker(w.id()).block(T)).isEqualTo(new StoreResults.WorkerStopped(0));
    assertThat(driver.findWorker(w.id()).blockOptional(T)).isEmpty();
    assertThat(rows.worker(null, t).id()).isGreaterThan(w.id());
  }

  @Test
  void theIdOfADeletedQueueIsNotReused() {
    Instant t = start();
    QueueInfo q = driver.findQueue(rows.queue(t)).block(T);
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(q.name(), true)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findQueue(rows.queue(t)).block(T).id()).isGreaterThan(q.id());
  }

  @Test
  void theIdOfARunDeletedWithItsWorkflowIsNotReused() {
    Instant t = start();
    Rows.Run run = rows.runningRun(rows.workflow(t), t);
    assertThat(driver.deleteQueue(new StoreParams.DeleteQueue(run.workflow(), true)).block(T))
        .isEqualTo(new StoreResults.QueueDeleted());
    assertThat(driver.findRun(run.id()).blockOptional(T)).isEmpty();
    assertThat(driver.findMessage(run.message().id()).blockOptional(T)).isEmpty();
    Rows.Run next = rows.runningRun(rows.workflow(t), t);
    assertThat(next.id()).isGreaterThan(run.id());
    assertThat(next.message().id()).isGreaterThan(run.message().id());
  }

  // ---------------------------------------------------------------- arguments out of range

  @Test
  void enqueueAtAnInstantNoStoreKeepsFailsThePublisherWithAnInvalidArgument() {
    Instant t = start();
    String q = rows.queue(t);
    for (Instant at : List.of(Instant.MAX, Instant.MIN)) {
      // Building the publisher must not throw: the failure is signalled to the subscriber.
      Mono<List<StoreResults.Enqueued>> enqueue = driver.enqueue(new StoreParams.Enqueue(q,
          List.of(Rows.row(0), new StoreParams.NewRow(Rows.payload(1), null, at, null, 0)), t));
      StepVerifier.create(enqueue)
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(InvalidArgumentException.class,
              i -> assertThat(i.argument()).isEqualTo("visibleAt")))
          .verify(T);
    }
    // All or none: the valid row of each batch was not inserted either.
    assertThat(listIds(q, MessageState.LIVE)).isEmpty();
  }

  @Test
  void enqueueAtAnInstantLongBeforeNowIsVisibleAtOnce() {
    Instant t = start();
    String q = rows.queue(t);
    Instant longAgo = Instant.parse("-100000-01-01T00:00:00Z");
    long id = rows.enqueue(q, new StoreParams.NewRow(Rows.payload(0), null, longAgo, null, 0), t);
    assertThat(find(id).visibleAt()).isEqualTo(t);
    assertThat(claimedIds(q, 1, t)).containsExactly(id);
  }

  // ---------------------------------------------------------------- in the caller's transaction

  /**
   * A transaction a caller began on the store's database, for {@link StoreDriver#enqueueInTransaction}
   * and {@link StoreDriver#triggerRunInTransaction}. Closing it rolls back what was neither committed
   * nor rolled back, so a failed test leaves no transaction (and no lock) open.
   */
  public interface CallerTransaction extends AutoCloseable {

    /**
     * The caller's connection, as the transactional SPI methods take it.
     *
     * @return the connection, in its transaction
     */
    Object connection();

    /** Commits and closes the connection. Blocks; for test threads only. */
    void commit();

    /** Rolls back and closes the connection. Blocks; for test threads only. */
    void rollback();

    /** Rolls back if neither committed nor rolled back, then closes the connection. Blocks; for test threads only. */
    @Override
    void close();
  }

  /**
   * Begins a caller's transaction on the database of {@link #dsn()}, on a connection of the caller's
   * own (not the driver's). A backend whose {@link io.pgqrs.Capabilities#transactionalEnqueue()} is
   * true must override this; the default, null, makes the transactional tests fail on such a backend.
   *
   * @return the transaction begun, or null when the backend has no caller transactions
   */
  protected @Nullable CallerTransaction beginCallerTransaction() {
    return null;
  }

  private CallerTransaction callerTransaction() {
    CallerTransaction tx = beginCallerTransaction();
    assertThat(tx).as("%s has transactionalEnqueue, so its conformance subclass must override "
        + "beginCallerTransaction()", driver.capabilities().backend()).isNotNull();
    return tx;
  }

  private static void refusedForWantOfTheCapability(Mono<?> operation) {
    StepVerifier.create(operation)
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(io.pgqrs.ConfigurationException.class,
            c -> assertThat(c.field()).isEqualTo("transactionalEnqueue")))
        .verify(T);
  }

  @Test
  void enqueueInTheCallersTransactionCommitsWithItAndRollsBackWithIt() {
    Instant t = start();
    String q = rows.queue(t);
    StoreParams.Enqueue two = new StoreParams.Enqueue(q, List.of(Rows.row(0), Rows.row(1)), t);
    if (!driver.capabilities().transactionalEnqueue()) {
      // Refused when subscribed, whatever the connection, and nothing is written.
      refusedForWantOfTheCapability(driver.enqueueInTransaction(two, new Object()));
      assertThat(listIds(q, MessageState.LIVE)).isEmpty();
      return;
    }
    List<Long> committed;
    try (CallerTransaction tx = callerTransaction()) {
      committed = driver.enqueueInTransaction(two, tx.connection()).block(T).stream()
          .map(StoreResults.Enqueued::id).toList();
      assertThat(committed).hasSize(2);
      assertThat(listIds(q, MessageState.LIVE)).as("listed before the caller commits").isEmpty();
      assertThat(claimedIds(q, 10, t)).as("claimed before the caller commits").isEmpty();
      tx.commit();
    }
    assertThat(listIds(q, MessageState.LIVE)).containsExactlyElementsOf(committed);
    assertThat(claimedIds(q, 10, t)).containsExactlyElementsOf(committed);

    String other = rows.queue(t);
    try (CallerTransaction tx = callerTransaction()) {
      assertThat(driver.enqueueInTransaction(new StoreParams.Enqueue(other, List.of(Rows.row(2)), t), tx.connection())
          .block(T)).hasSize(1);
      tx.rollback();
    }
    assertThat(listIds(other, MessageState.LIVE)).isEmpty();
    assertThat(claimedIds(other, 10, t)).isEmpty();
    assertThat(metrics(other, t).live()).isZero();
  }

  @Test
  void triggerRunInTheCallersTransactionCommitsWithItAndRollsBackWithIt() {
    Instant t = start();
    String wf = rows.workflow(t);
    StoreParams.TriggerRun trigger = new StoreParams.TriggerRun(wf, wf, null, "{\"order\": 1}", null, null, null, t);
    if (!driver.capabilities().transactionalEnqueue()) {
      refusedForWantOfTheCapability(driver.triggerRunInTransaction(trigger, new Object()));
      assertThat(driver.listRuns(new StoreParams.ListRuns(new RunQuery(wf, null, null, null, null, 100)))
          .collectList().block(T)).isEmpty();
      assertThat(listIds(wf, MessageState.LIVE)).isEmpty();
      return;
    }
    long runId;
    try (CallerTransaction tx = callerTransaction()) {
      StoreResults.Triggered triggered = driver.triggerRunInTransaction(trigger, tx.connection()).block(T);
      assertThat(triggered.created()).isTrue();
      assertThat(triggered.leased()).isNull();
      runId = triggered.runId();
      assertThat(driver.findRun(runId).blockOptional(T)).as("found before the caller commits").isEmpty();
      assertThat(claimedIds(wf, 10, t)).as("claimed before the caller commits").isEmpty();
      tx.commit();
    }
    assertThat(run(runId).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(claimedIds(wf, 10, t)).hasSize(1);

    String rolledBack = rows.workflow(t);
    try (CallerTransaction tx = callerTransaction()) {
      long id = driver.triggerRunInTransaction(new StoreParams.TriggerRun(rolledBack, rolledBack, null, "{}", "key",
          null, null, t), tx.connection()).block(T).runId();
      tx.rollback();
      assertThat(driver.findRun(id).blockOptional(T)).isEmpty();
    }
    assertThat(listIds(rolledBack, MessageState.LIVE)).isEmpty();
    // Nothing of the rolled-back run holds its idempotency key.
    assertThat(driver.triggerRun(new StoreParams.TriggerRun(rolledBack, rolledBack, null, "{}", "key", null, null, t))
        .block(T).created()).isTrue();

    // No worker may hold a run whose caller has not committed: a lease is refused before any SQL.
    try (CallerTransaction tx = callerTransaction()) {
      StepVerifier.create(driver.triggerRunInTransaction(new StoreParams.TriggerRun(wf, wf, null, "{}", null, null,
              new StoreParams.LeaseTaking(1L, LEASE), t), tx.connection()))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(InvalidArgumentException.class,
              i -> assertThat(i.argument()).isEqualTo("leaseTo")))
          .verify(T);
    }
  }

  // ---------------------------------------------------------------- workflow v2: versions and the trigger's lease

  private StoreResults.Triggered trigger(String workflow, String queue, @Nullable String version,
      @Nullable String key, @Nullable Duration timeout, StoreParams.@Nullable LeaseTaking lease, Instant at) {
    return driver.triggerRun(new StoreParams.TriggerRun(workflow, queue, version, "{\"order\": 1}", key, timeout,
        lease, at)).block(T);
  }

  /** A run triggered at {@code at} with its message leased to a new worker for {@link #LEASE}. */
  private Rows.Run leasedRun(String workflow, Instant at) {
    WorkerInfo w = rows.worker(workflow, at);
    StoreResults.Triggered t = trigger(workflow, workflow, null, null, null,
        new StoreParams.LeaseTaking(w.id(), LEASE), at);
    assertThat(t.created()).isTrue();
    return new Rows.Run(t.runId(), workflow, t.leased());
  }

  @Test
  void registerWorkflowWithAVersionCreatesTheVersionsQueueToo() {
    Instant t = start();
    String name = Rows.uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, name + "@v2", 3, t)).block(T);
    QueueInfo own = driver.findQueue(name).block(T);
    QueueInfo v2 = driver.findQueue(name + "@v2").block(T);
    assertThat(own.maxAttempts()).isEqualTo(3);
    assertThat(v2.maxAttempts()).isEqualTo(3);
    assertThat(v2.createdAt()).isEqualTo(t);
    // Again, and with the next version: both queues are kept as they are, the new one is added.
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, name + "@v2", 7, t.plusSeconds(1))).block(T);
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(name, name + "@v3", 7, t.plusSeconds(1))).block(T);
    assertThat(driver.findQueue(name).block(T)).isEqualTo(own);
    assertThat(driver.findQueue(name + "@v2").block(T)).isEqualTo(v2);
    assertThat(driver.findQueue(name + "@v3").block(T).maxAttempts()).isEqualTo(7);
  }

  @Test
  void triggerRunOnAVersionsQueueRecordsTheVersion() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(wf, wf + "@v2", 3, t)).block(T);
    StoreResults.Triggered versioned = trigger(wf, wf + "@v2", "v2", null, null, null, t);
    StoreResults.Triggered plain = trigger(wf, wf, null, null, null, null, t);
    assertThat(versioned).isEqualTo(new StoreResults.Triggered(versioned.runId(), true));
    assertThat(run(versioned.runId())).isEqualTo(new RunInfo(versioned.runId(), wf, RunStatus.QUEUED,
        json("{\"order\": 1}"), null, null, null, 0, 0, t, null, null, null, "v2"));
    assertThat(run(plain.runId()).version()).isNull();
    Message m = triggerMessage(new Rows.Run(versioned.runId(), wf + "@v2", null), MessageState.LIVE);
    assertThat(m).isEqualTo(new Message(m.id(), wf + "@v2", json("{\"run_id\": " + versioned.runId() + "}"),
        MessageState.LIVE, 0, 0, t, t, null, null, null, null, null, null));
    assertThat(driver.listMessages(new StoreParams.ListMessages(wf, MessageState.LIVE, 0, 1000))
        .map(x -> x.payload().path("run_id").asLong()).collectList().block(T)).containsExactly(plain.runId());
  }

  @Test
  void triggerRunOnAnUnknownQueueFailsWithWorkflowNotFoundAndCreatesNothing() {
    Instant t = start();
    String wf = rows.workflow(t);
    WorkerInfo w = rows.worker(wf, t);
    for (StoreParams.LeaseTaking lease : java.util.Arrays.asList(null, new StoreParams.LeaseTaking(w.id(), LEASE))) {
      StepVerifier.create(driver.triggerRun(new StoreParams.TriggerRun(wf, wf + "@v9", "v9", "{}", null, null, lease,
              t)))
          .as("trigger with lease " + lease)
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(WorkflowNotFoundException.class,
              x -> assertThat(x.workflow()).isEqualTo(wf)))
          .verify(T);
    }
    assertThat(driver.listRuns(new StoreParams.ListRuns(RunQuery.all().withWorkflow(wf))).collectList().block(T))
        .isEmpty();
    assertThat(driver.findQueue(wf + "@v9").blockOptional(T)).isEmpty();
  }

  @Test
  void triggerRunWithALeaseInsertsTheMessageLeasedAndTheRunBegun() {
    Instant t = start();
    String wf = rows.workflow(t);
    WorkerInfo w = rows.worker(wf, t);
    StoreResults.Triggered tr = trigger(wf, wf, null, null, null, new StoreParams.LeaseTaking(w.id(), LEASE), t);
    assertThat(tr.created()).isTrue();
    Message leased = tr.leased();
    assertThat(leased).isNotNull();
    assertThat(leased).isEqualTo(new Message(leased.id(), wf, json("{\"run_id\": " + tr.runId() + "}"),
        MessageState.LIVE, 0, 1, t, t.plus(LEASE), leased.leaseToken(), w.id(), null, null, null, null));
    assertThat(leased.leaseToken()).isNotNull();
    assertThat(find(leased.id())).isEqualTo(leased);
    RunInfo begun = new RunInfo(tr.runId(), wf, RunStatus.RUNNING, json("{\"order\": 1}"), null, null, null, 1, 0,
        t, t, null, null);
    assertThat(tr.begun()).isEqualTo(new StoreResults.RunBegun(begun, null, List.of()));
    assertThat(run(tr.runId())).isEqualTo(begun);
    // The lease is a real one: it extends and fences like a claim's.
    assertThat(driver.extend(new StoreParams.Extend(ref(leased, t.plusSeconds(1)), LEASE)).block(T))
        .isEqualTo(new Lease(leased.id(), leased.leaseToken(), t.plusSeconds(1).plus(LEASE)));
  }

  @Test
  void aLeasedTriggerMessageIsClaimableByNoOneUntilTheLeaseEnds() {
    Instant t = start();
    String wf = rows.workflow(t);
    Rows.Run run = leasedRun(wf, t);
    // No consumer needs waking: nothing is claimable before the lease ends.
    assertThat(untilNextVisible(wf, t)).isEqualTo(LEASE);
    assertThat(claim(wf, 10, t.plus(LEASE).minus(MS)).claimed()).isEmpty();
    StoreResults.Claimed after = claim(wf, 10, t.plus(LEASE));
    assertThat(after.claimed()).extracting(Message::id, Message::attempts)
        .containsExactly(tuple(run.message().id(), 2));
    assertThat(after.claimed().get(0).leaseToken()).isNotEqualTo(run.message().leaseToken());
  }

  @Test
  void triggerRunWithALeaseAndATimeoutTellsTheTimeLeft() {
    Instant t = start();
    String wf = rows.workflow(t);
    WorkerInfo w = rows.worker(wf, t);
    StoreResults.Triggered tr = trigger(wf, wf, null, null, Duration.ofMinutes(5),
        new StoreParams.LeaseTaking(w.id(), LEASE), t);
    assertThat(tr.begun().untilDeadline()).isEqualTo(Duration.ofMinutes(5));
    assertThat(tr.begun().run().deadline()).isEqualTo(t.plus(Duration.ofMinutes(5)));
    assertThat(run(tr.runId())).isEqualTo(tr.begun().run());
  }

  @Test
  void triggerRunWithALeaseRecordsTheVersion() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(wf, wf + "@v2", 3, t)).block(T);
    WorkerInfo w = rows.worker(wf + "@v2", t);
    StoreResults.Triggered tr = trigger(wf, wf + "@v2", "v2", null, null, new StoreParams.LeaseTaking(w.id(), LEASE),
        t);
    assertThat(tr.leased().queue()).isEqualTo(wf + "@v2");
    assertThat(tr.begun().run().version()).isEqualTo("v2");
    assertThat(run(tr.runId())).isEqualTo(tr.begun().run());
  }

  @Test
  void aLeasedTriggerWithAUsedIdempotencyKeyReturnsTheOldRunAndTakesNoLease() {
    Instant t = start();
    String wf = rows.workflow(t);
    WorkerInfo w = rows.worker(wf, t);
    StoreResults.Triggered first = trigger(wf, wf, null, "k", null, null, t);
    StoreResults.Triggered again = trigger(wf, wf, null, "k", null, new StoreParams.LeaseTaking(w.id(), LEASE),
        t.plusSeconds(1));
    assertThat(again).isEqualTo(new StoreResults.Triggered(first.runId(), false, null, null));
    RunInfo old = run(first.runId());
    assertThat(old.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(old.attempts()).isZero();
    Message m = triggerMessage(new Rows.Run(first.runId(), wf, null), MessageState.LIVE);
    assertThat(m.leaseToken()).isNull();
    assertThat(listIds(wf, MessageState.LIVE)).containsExactly(m.id());
    // And the other way round: a leased run's key returns it without a second lease.
    StoreResults.Triggered leased = trigger(wf, wf, null, "k2", null, new StoreParams.LeaseTaking(w.id(), LEASE), t);
    assertThat(trigger(wf, wf, null, "k2", null, new StoreParams.LeaseTaking(w.id(), LEASE), t.plusSeconds(1)))
        .isEqualTo(new StoreResults.Triggered(leased.runId(), false, null, null));
    assertThat(find(leased.leased().id())).isEqualTo(leased.leased());
    assertThat(run(leased.runId()).attempts()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- workflow v2: fenced step records

  private static StoreParams.RecordStep record(Rows.Run run, String position, String stepId, StepStatus status,
      @Nullable String output, @Nullable String error, int attempts, @Nullable Duration wakeAfter,
      @Nullable String awaiting, int completion, Duration ranFor) {
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(run.message().id(), Rows.lease(run.message()), null);
    return new StoreParams.RecordStep(run.id(), lease, position, stepId, status, output,
        output == null ? null : "java.lang.Integer", error, attempts, wakeAfter, awaiting, completion, ranFor);
  }

  private static StoreParams.RecordStep success(Rows.Run run, String position, String stepId, String output,
      int completion) {
    return record(run, position, stepId, StepStatus.SUCCESS, output, null, 1, null, null, completion, Duration.ZERO);
  }

  private static StoreParams.RecordStep retry(Rows.Run run, String position, String stepId, String error,
      int attempts, Duration wakeAfter) {
    return record(run, position, stepId, StepStatus.RETRY, null, error, attempts, wakeAfter, null, 0, Duration.ZERO);
  }

  private static StoreParams.RecordStep waiting(Rows.Run run, String position, String stepId,
      @Nullable Duration wakeAfter, @Nullable String awaiting) {
    return record(run, position, stepId, StepStatus.WAITING, null, null, 0, wakeAfter, awaiting, 0, Duration.ZERO);
  }

  /** The same record under another lease token of the same message. */
  private static StoreParams.RecordStep forgedLease(StoreParams.RecordStep s) {
    return new StoreParams.RecordStep(s.runId(), new StoreParams.LeaseRef(s.lease().messageId(), UUID.randomUUID(),
        null), s.position(), s.stepId(), s.status(), s.outputJson(), s.outputType(), s.error(), s.attempts(),
        s.wakeAfter(), s.awaiting(), s.completion(), s.ranFor());
  }

  private List<StoreResults.StepWritten> recordSteps(Instant at, StoreParams.RecordStep... steps) {
    return driver.recordSteps(new StoreParams.RecordSteps(List.of(steps), at)).block(T);
  }

  private StoreResults.StepWritten recordStep(Instant at, StoreParams.RecordStep step) {
    List<StoreResults.StepWritten> written = recordSteps(at, step);
    assertThat(written).hasSize(1);
    return written.get(0);
  }

  private static final StoreResults.StepWritten WRITTEN = new StoreResults.StepWritten(true, RunStatus.RUNNING);
  private static final StoreResults.StepWritten REFUSED = new StoreResults.StepWritten(false, RunStatus.RUNNING);

  private StoreResults.RunBegun begin(long runId, Instant at) {
    return driver.beginRun(new StoreParams.BeginRun(runId, RunTransitions.BEGIN, at)).block(T);
  }

  @Test
  void recordStepsInsertsNewSteps() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(5);
    assertThat(recordSteps(at,
        record(run, "1", "charge", StepStatus.SUCCESS, "42", null, 1, null, null, 1, Duration.ofSeconds(2)),
        record(run, "2", "ship", StepStatus.RETRY, null, "down", 1, Duration.ofSeconds(10), null, 0,
            Duration.ofMillis(1500)),
        record(run, "3", "nap", StepStatus.WAITING, null, null, 0, Duration.ofSeconds(60), null, 0, Duration.ZERO),
        record(run, "4", "gave-up", StepStatus.ERROR, null, "declined", 3, null, null, 2, Duration.ofSeconds(1))))
        .containsExactly(WRITTEN, WRITTEN, WRITTEN, WRITTEN);
    assertThat(steps(run.id())).containsExactlyInAnyOrder(
        new StepInfo(run.id(), "charge", StepStatus.SUCCESS, 1, json("42"), null, null, at.minusSeconds(2), at, at,
            "1"),
        new StepInfo(run.id(), "ship", StepStatus.RETRY, 1, null, "down", at.plusSeconds(10), at.minusMillis(1500), at,
            null, "2"),
        new StepInfo(run.id(), "nap", StepStatus.WAITING, 0, null, null, at.plusSeconds(60), at, at, null, "3"),
        new StepInfo(run.id(), "gave-up", StepStatus.ERROR, 3, null, "declined", null, at.minusSeconds(1), at, at,
            "4"));
  }

  @Test
  void recordStepsWithAnotherTokenWritesNothing() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), forgedLease(success(run, "1", "s", "1", 1)))).isEqualTo(REFUSED);
    assertThat(steps(run.id())).isEmpty();
  }

  @Test
  void recordStepsIsFencedByTheLeasesExpiryByTheStoresClock() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plus(LEASE), success(run, "1", "late", "1", 1))).isEqualTo(REFUSED);
    assertThat(recordStep(t.plus(LEASE).minus(MS), success(run, "2", "in-time", "2", 1))).isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::stepId).containsExactly("in-time");
    // A leased trigger's lease fences the same way.
    Rows.Run leased = leasedRun(rows.workflow(t), t);
    assertThat(recordStep(t.plus(LEASE), success(leased, "1", "late", "1", 1))).isEqualTo(REFUSED);
    assertThat(recordStep(t.plusSeconds(1), success(leased, "1", "s", "1", 1))).isEqualTo(WRITTEN);
  }

  @Test
  void recordStepsOfAFinishedOrMissingRunWritesNothing() {
    Instant t = start();
    Rows.Run own = rows.runIn(RunStatus.RUNNING, t);
    assertThat(finishRun(own.id(), own.lease(t), RunStatus.SUCCESS, "1", null, t)).isEqualTo(RunStatus.SUCCESS);
    assertThat(recordStep(t, success(own, "1", "s", "1", 1)))
        .isEqualTo(new StoreResults.StepWritten(false, RunStatus.SUCCESS));
    // Under a lease that still holds (another run's), the run's status alone refuses the record.
    Rows.Run holder = rows.runIn(RunStatus.RUNNING, t);
    for (RunStatus status : List.of(RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.CANCELLED)) {
      Rows.Run done = rows.runIn(status, t);
      assertThat(recordStep(t.plusSeconds(1), success(new Rows.Run(done.id(), done.workflow(), holder.message()), "1",
          "s", "1", 1))).as("a step of a %s run", status).isEqualTo(new StoreResults.StepWritten(false, status));
      assertThat(steps(done.id())).isEmpty();
    }
    assertThat(recordStep(t.plusSeconds(1), success(new Rows.Run(Long.MAX_VALUE, holder.workflow(), holder.message()),
        "1", "s", "1", 1))).isEqualTo(new StoreResults.StepWritten(false, null));
    assertThat(steps(own.id())).isEmpty();
  }

  @Test
  void recordStepsOfAPausedOrCancellingRunWritesAndTellsTheStatus() {
    Instant t = start();
    for (RunStatus status : List.of(RunStatus.PAUSED, RunStatus.CANCELLING)) {
      Rows.Run run = rows.runIn(status, t);
      assertThat(recordStep(t.plusSeconds(1), success(run, "1", "s", "1", 1))).as("a step of a %s run", status)
          .isEqualTo(new StoreResults.StepWritten(true, status));
      assertThat(steps(run.id())).extracting(StepInfo::status).containsExactly(StepStatus.SUCCESS);
    }
  }

  @Test
  void aStepRecordedSuccessOrErrorIsNeverOverwritten() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordSteps(t.plusSeconds(1), success(run, "1", "ok", "1", 1),
        record(run, "2", "failed", StepStatus.ERROR, null, "boom", 2, null, null, 2, Duration.ZERO)))
        .containsExactly(WRITTEN, WRITTEN);
    List<StepInfo> before = steps(run.id());
    Instant at = t.plusSeconds(2);
    for (String stepId : List.of("ok", "failed")) {
      String position = stepId.equals("ok") ? "1" : "2";
      assertThat(recordSteps(at, success(run, position, stepId, "9", 3))).containsExactly(REFUSED);
      assertThat(recordSteps(at, record(run, position, stepId, StepStatus.ERROR, null, "late", 1, null, null, 3,
          Duration.ZERO))).containsExactly(REFUSED);
      assertThat(recordSteps(at, retry(run, position, stepId, "late", 1, LEASE))).containsExactly(REFUSED);
      assertThat(recordSteps(at, waiting(run, position, stepId, LEASE, null))).containsExactly(REFUSED);
    }
    assertThat(steps(run.id())).isEqualTo(before);
  }

  @Test
  void aRetryOrWaitingStepIsOverwrittenKeepingItsStart() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant first = t.plusSeconds(1);
    assertThat(recordSteps(first,
        record(run, "1", "charge", StepStatus.RETRY, null, "declined", 1, Duration.ofSeconds(5), null, 0,
            Duration.ofSeconds(1)),
        waiting(run, "2", "nap", Duration.ofSeconds(60), null),
        waiting(run, "3", "approval", null, "approval"))).containsExactly(WRITTEN, WRITTEN, WRITTEN);
    Instant later = t.plusSeconds(7);
    assertThat(recordSteps(later,
        record(run, "1", "charge", StepStatus.SUCCESS, "42", null, 2, null, null, 1, Duration.ofSeconds(1)),
        success(run, "2", "nap", "5", 2),
        record(run, "3", "approval", StepStatus.ERROR, null, "timed out", 0, null, null, 3, Duration.ZERO)))
        .containsExactly(WRITTEN, WRITTEN, WRITTEN);
    assertThat(steps(run.id())).containsExactlyInAnyOrder(
        new StepInfo(run.id(), "charge", StepStatus.SUCCESS, 2, json("42"), null, null, t, later, later, "1"),
        new StepInfo(run.id(), "nap", StepStatus.SUCCESS, 1, json("5"), null, null, first, later, later, "2"),
        new StepInfo(run.id(), "approval", StepStatus.ERROR, 0, null, "timed out", null, first, later, later, "3"));
  }

  @Test
  void aRetryCanBeRecordedAgainWithANewDueTime() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t.plusSeconds(1), retry(run, "1", "charge", "first", 1, Duration.ofSeconds(5))))
        .isEqualTo(WRITTEN);
    assertThat(recordStep(t.plusSeconds(6), retry(run, "1", "charge", "second", 2, Duration.ofSeconds(10))))
        .isEqualTo(WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::status, StepInfo::attempts, StepInfo::error, StepInfo::wakeAt,
        StepInfo::startedAt, StepInfo::updatedAt)
        .containsExactly(tuple(StepStatus.RETRY, 2, "second", t.plusSeconds(16), t.plusSeconds(1), t.plusSeconds(6)));
  }

  @Test
  void aWaitingRecordWithoutWakeAfterKeepsTheDueTimeRecordedBefore() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordSteps(t.plusSeconds(1), waiting(run, "1", "nap", Duration.ofSeconds(60), null),
        waiting(run, "2", "approval", null, "approval"))).containsExactly(WRITTEN, WRITTEN);
    // Replayed after a wake-up: the nap keeps its due time; the signal wait gets a timeout now.
    assertThat(recordSteps(t.plusSeconds(10), waiting(run, "1", "nap", null, null),
        waiting(run, "2", "approval", Duration.ofSeconds(30), "approval"))).containsExactly(WRITTEN, WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::wakeAt, StepInfo::updatedAt)
        .containsExactlyInAnyOrder(tuple("nap", t.plusSeconds(61), t.plusSeconds(10)),
            tuple("approval", t.plusSeconds(40), t.plusSeconds(10)));
    assertThat(begin(run.id(), t.plusSeconds(11)).history()).containsExactly(
        new StoreResults.StepRecord("1", "nap", StepStatus.WAITING, null, null, null, 0, Duration.ofSeconds(50), null,
            0),
        new StoreResults.StepRecord("2", "approval", StepStatus.WAITING, null, null, null, 0, Duration.ofSeconds(29),
            "approval", 0));
  }

  @Test
  void recordStepsReturnsOneResultPerRecordInTheOrderGiven() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordStep(t, success(run, "2", "b", "2", 1))).isEqualTo(WRITTEN);
    assertThat(recordSteps(t.plusSeconds(1), success(run, "3", "c", "3", 2), success(run, "2", "b", "9", 2),
        success(run, "1", "a", "1", 3), success(run, "4", "d", "4", 4)))
        .containsExactly(WRITTEN, REFUSED, WRITTEN, WRITTEN);
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::output).containsExactlyInAnyOrder(
        tuple("a", json("1")), tuple("b", json("2")), tuple("c", json("3")), tuple("d", json("4")));
  }

  @Test
  void aBatchOfTwoRunsWithOneLeaseLostWritesOnlyTheOtherRunsRecord() {
    Instant t = start();
    Rows.Run held = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run lost = rows.runIn(RunStatus.RUNNING, t);
    assertThat(recordSteps(t.plusSeconds(1), success(held, "1", "s", "1", 1),
        forgedLease(success(lost, "1", "s", "1", 1)))).containsExactly(WRITTEN, REFUSED);
    assertThat(recordSteps(t.plusSeconds(1), forgedLease(success(lost, "2", "t", "2", 2)),
        success(held, "2", "t", "2", 2))).containsExactly(REFUSED, WRITTEN);
    assertThat(steps(held.id())).extracting(StepInfo::stepId).containsExactlyInAnyOrder("s", "t");
    assertThat(steps(lost.id())).isEmpty();
  }

  @Test
  void listStepsShowsEachStepsPosition() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    recordSteps(t, success(run, "1", "a", "1", 1));
    recordSteps(t, success(run, "scope/1", "scope/a", "2", 2));
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::position).containsExactly(
        tuple("a", "1"), tuple("scope/a", "scope/1"));
  }

  // ---------------------------------------------------------------- workflow v2: history on begin

  @Test
  void beginRunReturnsTheHistoryInCompletionThenPositionOrder() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(recordSteps(at,
        success(run, "1", "a", "10", 2),
        success(run, "2", "b", "20", 1),
        retry(run, "3", "c", "declined", 1, Duration.ofSeconds(10)),
        waiting(run, "4", "d", null, "approval"),
        record(run, "5", "e", StepStatus.ERROR, null, "boom", 3, null, null, 3, Duration.ZERO),
        waiting(run, "6", "f", Duration.ofSeconds(1), null)))
        .containsExactly(WRITTEN, WRITTEN, WRITTEN, WRITTEN, WRITTEN, WRITTEN);
    StoreResults.RunBegun begun = begin(run.id(), t.plusSeconds(3));
    assertThat(begun.run().attempts()).isEqualTo(2);
    assertThat(begun.history()).containsExactly(
        new StoreResults.StepRecord("3", "c", StepStatus.RETRY, null, null, "declined", 1, Duration.ofSeconds(8), null,
            0),
        new StoreResults.StepRecord("4", "d", StepStatus.WAITING, null, null, null, 0, null, "approval", 0),
        new StoreResults.StepRecord("6", "f", StepStatus.WAITING, null, null, null, 0, Duration.ZERO, null, 0),
        new StoreResults.StepRecord("2", "b", StepStatus.SUCCESS, "20", "java.lang.Integer", null, 1, null, null, 1),
        new StoreResults.StepRecord("1", "a", StepStatus.SUCCESS, "10", "java.lang.Integer", null, 1, null, null, 2),
        new StoreResults.StepRecord("5", "e", StepStatus.ERROR, null, null, "boom", 3, null, null, 3));
  }

  @Test
  void beginRunOfAFinishedRunStillReturnsItsHistory() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    recordStep(t, success(run, "1", "a", "{\"v\": 1}", 1));
    finishRun(run.id(), run.lease(t), RunStatus.SUCCESS, "1", null, t);
    StoreResults.RunBegun begun = begin(run.id(), t.plusSeconds(1));
    assertThat(begun.run().status()).isEqualTo(RunStatus.SUCCESS);
    assertThat(begun.history()).hasSize(1);
    assertThat(json(begun.history().get(0).outputJson())).isEqualTo(json("{\"v\": 1}"));
  }

  // ---------------------------------------------------------------- run events under the run's lease

  private StoreResults.StepWritten setEvent(Rows.Run run, StoreParams.LeaseRef lease, String position, String key,
      String value, int completion) {
    return driver.setEvent(new StoreParams.SetEvent(run.id(), lease, position, "pgqrs.event." + key + "#" + position,
        key, value, completion)).block(T);
  }

  private List<StoreResults.RunEvent> events(long runId, long after) {
    return driver.listEvents(new StoreParams.ListEvents(List.of(runId), List.of(after), 100)).collectList().block(T);
  }

  @Test
  void setEventRecordsTheStepAndAppendsTheValueOnce() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(1);
    assertThat(setEvent(run, run.lease(at), "1", "progress", "{\"n\": 1}", 1))
        .isEqualTo(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    assertThat(setEvent(run, run.lease(at), "2", "progress", "2", 2))
        .isEqualTo(new StoreResults.StepWritten(true, RunStatus.RUNNING));
    // The same step again (a replay that did not see its record) appends nothing.
    assertThat(setEvent(run, run.lease(at), "1", "progress", "{\"n\": 1}", 3).written()).isFalse();
    List<StoreResults.RunEvent> events = events(run.id(), 0);
    assertThat(events).extracting(StoreResults.RunEvent::key).containsExactly("progress", "progress");
    assertThat(json(events.get(0).valueJson())).isEqualTo(json("{\"n\": 1}"));
    assertThat(events.get(1).valueJson()).isEqualTo("2");
    assertThat(events.get(0).createdAt()).isEqualTo(at);
    assertThat(events.get(1).seq()).isGreaterThan(events.get(0).seq());
    assertThat(events(run.id(), events.get(0).seq())).containsExactly(events.get(1));
    assertThat(begin(run.id(), at).history()).extracting(StoreResults.StepRecord::position, StoreResults.StepRecord::status)
        .containsExactly(tuple("1", StepStatus.SUCCESS),
            tuple("2", StepStatus.SUCCESS));
  }

  @Test
  void setEventIsFencedByTheRunsLease() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    assertThat(setEvent(run, forged(run.message(), t.plusSeconds(1)), "1", "k", "1", 1).written()).isFalse();
    // An expired lease writes nothing either.
    assertThat(setEvent(run, run.lease(t.plus(Rows.LEASE).plusSeconds(1)), "1", "k", "1", 1).written()).isFalse();
    Rows.Run finished = rows.runIn(RunStatus.SUCCESS, t);
    if (finished.message() != null) {
      assertThat(setEvent(finished, finished.lease(t.plusSeconds(1)), "1", "k", "1", 1).written()).isFalse();
      assertThat(events(finished.id(), 0)).isEmpty();
    }
    assertThat(events(run.id(), 0)).isEmpty();
    assertThat(steps(run.id())).isEmpty();
  }

  @Test
  void listEventsReadsSeveralRunsEachAfterItsOwnSeqAndNothingForUnknownRuns() {
    Instant t = start();
    Rows.Run a = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run b = rows.runIn(RunStatus.RUNNING, t);
    setEvent(a, a.lease(t), "1", "x", "1", 1);
    setEvent(b, b.lease(t), "1", "y", "\"it's \\\"quoted\\\"\"", 1);
    setEvent(a, a.lease(t), "2", "x", "2", 2);
    long firstOfA = events(a.id(), 0).get(0).seq();
    List<StoreResults.RunEvent> read = driver.listEvents(new StoreParams.ListEvents(
        List.of(b.id(), a.id(), Long.MAX_VALUE), List.of(0L, firstOfA, 0L), 100)).collectList().block(T);
    assertThat(read).extracting(StoreResults.RunEvent::runId, StoreResults.RunEvent::valueJson).containsExactlyInAnyOrder(
        tuple(a.id(), "2"),
        tuple(b.id(), "\"it's \\\"quoted\\\"\""));
    assertThat(driver.listEvents(new StoreParams.ListEvents(List.of(a.id()), List.of(0L), 1)).collectList().block(T))
        .hasSize(1);
  }

  // ---------------------------------------------------------------- workflow v2: signals under the run's lease

  private StoreResults.SignalTaken takeSignal(Rows.Run run, StoreParams.LeaseRef lease, String position,
      String stepId, String name, int completion) {
    return driver.takeSignal(new StoreParams.TakeSignal(run.id(), lease, position, stepId, name, completion)).block(T);
  }

  private void signal(Rows.Run run, String name, String value, Instant at) {
    driver.signalRun(new StoreParams.SignalRun(run.id(), name, value, at)).block(T);
  }

  @Test
  void takeSignalWithoutAPendingSignalTakesNothing() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "other", "1", t);
    recordStep(t, waiting(run, "1", "wait", null, "approval"));
    List<StepInfo> before = steps(run.id());
    assertThat(takeSignal(run, run.lease(t.plusSeconds(1)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    assertThat(takeSignal(run, run.lease(t.plusSeconds(1)), "2", "new", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    assertThat(steps(run.id())).isEqualTo(before);
  }

  @Test
  void takeSignalConsumesTheOldestSignalOnceAsTheStepsOutput() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "approval", "1", t.plusSeconds(1));
    signal(run, "approval", "2", t.plusSeconds(2));
    recordStep(t.plusSeconds(3), waiting(run, "1", "wait-1", null, "approval"));
    Instant at = t.plusSeconds(4);
    // Over the WAITING record, and as a new step.
    assertThat(takeSignal(run, run.lease(at), "1", "wait-1", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken("1", true));
    assertThat(takeSignal(run, run.lease(at), "2", "wait-2", "approval", 2))
        .isEqualTo(new StoreResults.SignalTaken("2", true));
    assertThat(takeSignal(run, run.lease(at), "3", "wait-3", "approval", 3))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    // A step already recorded takes nothing, and the signal stays for the next wait.
    signal(run, "approval", "3", t.plusSeconds(5));
    Instant later = t.plusSeconds(6);
    assertThat(takeSignal(run, run.lease(later), "1", "wait-1", "approval", 4))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    assertThat(takeSignal(run, run.lease(later), "3", "wait-3", "approval", 3))
        .isEqualTo(new StoreResults.SignalTaken("3", true));
    assertThat(steps(run.id())).containsExactlyInAnyOrder(
        new StepInfo(run.id(), "wait-1", StepStatus.SUCCESS, 0, json("1"), null, null, t.plusSeconds(3), at, at, "1"),
        new StepInfo(run.id(), "wait-2", StepStatus.SUCCESS, 0, json("2"), null, null, at, at, at, "2"),
        new StepInfo(run.id(), "wait-3", StepStatus.SUCCESS, 0, json("3"), null, null, later, later, later, "3"));
    assertThat(begin(run.id(), later).history()).containsExactly(
        new StoreResults.StepRecord("1", "wait-1", StepStatus.SUCCESS, "1", null, null, 0, null, null, 1),
        new StoreResults.StepRecord("2", "wait-2", StepStatus.SUCCESS, "2", null, null, 0, null, null, 2),
        new StoreResults.StepRecord("3", "wait-3", StepStatus.SUCCESS, "3", null, null, 0, null, null, 3));
  }

  @Test
  void listSignalsReadsARunsSignalsPendingAndConsumedAfterAnIdAndNothingForUnknownRuns() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Rows.Run other = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "approval", "true", t.plusSeconds(1));
    signal(other, "approval", "false", t.plusSeconds(1));
    signal(run, "note", "\"it's \\\"quoted\\\"\"", t.plusSeconds(2));
    recordStep(t.plusSeconds(3), waiting(run, "1", "wait", null, "approval"));
    assertThat(takeSignal(run, run.lease(t.plusSeconds(4)), "1", "wait", "approval", 1).valueJson()).isEqualTo("true");

    List<StoreResults.RunSignal> read = driver.listSignals(new StoreParams.ListSignals(run.id(), 0, 100))
        .collectList().block(T);
    assertThat(read).extracting(StoreResults.RunSignal::runId, StoreResults.RunSignal::name,
            StoreResults.RunSignal::valueJson, StoreResults.RunSignal::sentAt, StoreResults.RunSignal::consumedBy)
        .containsExactly(
            tuple(run.id(), "approval", "true", t.plusSeconds(1), "wait"),
            tuple(run.id(), "note", "\"it's \\\"quoted\\\"\"", t.plusSeconds(2), null));
    assertThat(read.get(0).id()).isLessThan(read.get(1).id());
    assertThat(driver.listSignals(new StoreParams.ListSignals(run.id(), read.get(0).id(), 100)).collectList().block(T))
        .containsExactly(read.get(1));
    assertThat(driver.listSignals(new StoreParams.ListSignals(run.id(), 0, 1)).collectList().block(T))
        .containsExactly(read.get(0));
    assertThat(driver.listSignals(new StoreParams.ListSignals(Long.MAX_VALUE, 0, 100)).collectList().block(T)).isEmpty();
  }

  @Test
  void takeSignalWithALostLeaseTakesNothing() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    signal(run, "approval", "\"yes\"", t);
    recordStep(t, waiting(run, "1", "wait", null, "approval"));
    List<StepInfo> before = steps(run.id());
    assertThat(takeSignal(run, forged(run.message(), t.plusSeconds(1)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, false));
    assertThat(takeSignal(run, run.lease(t.plus(LEASE)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, false));
    // A finished run takes nothing either, even under a lease that holds (another run's).
    Rows.Run done = rows.runIn(RunStatus.SUCCESS, t);
    assertThat(takeSignal(done, run.lease(t.plusSeconds(1)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, false));
    assertThat(steps(run.id())).isEqualTo(before);
    assertThat(takeSignal(run, run.lease(t.plusSeconds(1)), "1", "wait", "approval", 1))
        .isEqualTo(new StoreResults.SignalTaken("\"yes\"", true));
  }

  // ---------------------------------------------------------------- workflow v2: transactional steps

  @Test
  void transactionalStepRecordsTheWorksValueWithTheStep() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    Instant at = t.plusSeconds(2);
    StoreParams.RecordStep step = record(run, "1", "write", StepStatus.SUCCESS, null, null, 1, null, null, 1,
        Duration.ofSeconds(1));
    Mono<Integer> tx = driver.transactionalStep(step, at, c -> Mono.just(42), String::valueOf);
    if (!driver.capabilities().transactionalSteps()) {
      StepVerifier.create(tx).expectError(io.pgqrs.ConfigurationException.class).verify(T);
      return;
    }
    StepVerifier.create(tx).expectNext(42).expectComplete().verify(T);
    assertThat(steps(run.id())).containsExactly(new StepInfo(run.id(), "write", StepStatus.SUCCESS, 1, json("42"),
        null, null, at.minusSeconds(1), at, at, "1"));
    assertThat(begin(run.id(), at).history()).extracting(StoreResults.StepRecord::outputType)
        .containsExactly("java.lang.Integer");
    // A work without a value records an empty output; a recorded step is never written again.
    StepVerifier.create(driver.transactionalStep(record(run, "2", "empty", StepStatus.SUCCESS, null, null, 1, null,
        null, 2, Duration.ZERO), at, c -> Mono.<Integer>empty(), String::valueOf)).expectComplete().verify(T);
    assertThat(steps(run.id())).extracting(StepInfo::stepId, StepInfo::status, StepInfo::output)
        .containsExactly(tuple("write", StepStatus.SUCCESS, json("42")), tuple("empty", StepStatus.SUCCESS, null));
    StepVerifier.create(driver.transactionalStep(step, at, c -> Mono.just(7), String::valueOf))
        .expectError(StoreResults.StepLeaseLost.class).verify(T);
  }

  @Test
  void transactionalStepWithALostLeaseRollsTheWorkBack() {
    Instant t = start();
    Rows.Run run = rows.runIn(RunStatus.RUNNING, t);
    if (!driver.capabilities().transactionalSteps()) {
      return;
    }
    // The backends with transactional steps hand the work an R2DBC connection: the work's write is
    // a signal to the run, visible afterwards only if it committed.
    String insert = "INSERT INTO \"" + driver.schema() + "\".pgqrs_signals (run_id, name, value, sent_at) "
        + "VALUES ($1, 'probe', '1'::jsonb, now())";
    Function<Object, Mono<Integer>> work = c -> Mono.from(((io.r2dbc.spi.Connection) c).createStatement(insert)
            .bind(0, run.id()).execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()))
        .thenReturn(1);
    for (Instant at : List.of(t.plusSeconds(1), t.plus(LEASE))) {
      StoreParams.RecordStep step = record(run, "1", "write", StepStatus.SUCCESS, null, null, 1, null, null, 1,
          Duration.ZERO);
      StepVerifier.create(driver.transactionalStep(at.isBefore(t.plus(LEASE)) ? forgedLease(step) : step, at, work,
              String::valueOf))
          .expectError(StoreResults.StepLeaseLost.class)
          .verify(T);
    }
    assertThat(steps(run.id())).isEmpty();
    assertThat(takeSignal(run, run.lease(t.plusSeconds(1)), "1", "probe", "probe", 1))
        .isEqualTo(new StoreResults.SignalTaken(null, true));
    // With the lease, the write and the record commit together.
    StepVerifier.create(driver.transactionalStep(record(run, "2", "write", StepStatus.SUCCESS, null, null, 1, null,
            null, 1, Duration.ZERO), t.plusSeconds(1), work, String::valueOf))
        .expectNext(1).expectComplete().verify(T);
    assertThat(takeSignal(run, run.lease(t.plusSeconds(2)), "3", "probe", "probe", 2))
        .isEqualTo(new StoreResults.SignalTaken("1", true));
  }

  // ---------------------------------------------------------------- the state machine's tables, applied as given
  //
  // The engine's run state machine (RunTransitions) is passed to the backends as tables; these
  // tests pass other tables, so a backend that decides a transition of its own fails them.

  /** A table from pairs of statuses: from, to, from, to... */
  private static StoreParams.Moves moves(RunStatus... pairs) {
    List<RunStatus> from = new ArrayList<>();
    List<RunStatus> to = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      from.add(pairs[i]);
      to.add(pairs[i + 1]);
    }
    return new StoreParams.Moves(from, to);
  }

  private StoreResults.RunBegun begin(long runId, StoreParams.Moves moves, Instant at) {
    return driver.beginRun(new StoreParams.BeginRun(runId, moves, at)).block(T);
  }

  private Mono<RunInfo> control(long runId, StoreParams.RunControl action, StoreParams.Moves moves,
      StoreParams.@Nullable Moves whenHeld, StoreParams.@Nullable Moves whenUnstarted, List<RunStatus> unchanged,
      @Nullable String reason, Instant at) {
    return driver.controlRun(new StoreParams.ControlRun(runId, action, moves, whenHeld, whenUnstarted, unchanged,
        reason, at));
  }

  private void refused(Mono<RunInfo> control, long runId, RunStatus status, String action) {
    StepVerifier.create(control)
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RunStateException.class, r -> {
          assertThat(r.runId()).isEqualTo(runId);
          assertThat(r.status()).isEqualTo(status);
          assertThat(r.getMessage()).contains(action);
        }))
        .verify(T);
  }

  private boolean suspend(Rows.Run run, Instant at, @Nullable Duration wakeAfter, List<RunStatus> wakeAtOnce,
      List<RunStatus> parkedUntilResumed) {
    return driver.suspendRun(new StoreParams.SuspendRun(run.id(), run.lease(at), wakeAfter, false, wakeAtOnce,
        parkedUntilResumed)).block(T);
  }

  @Test
  void beginRunAppliesTheTableItIsGiven() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    StoreParams.Moves onlyRunning = moves(RunStatus.RUNNING, RunStatus.RUNNING);
    // Not a source: unchanged, no attempt counted, no start.
    Rows.Run queued = rows.runIn(RunStatus.QUEUED, t);
    RunInfo before = run(queued.id());
    assertThat(begin(queued.id(), onlyRunning, at).run()).isEqualTo(before);
    assertThat(run(queued.id())).isEqualTo(before);
    Rows.Run running = rows.runIn(RunStatus.RUNNING, t);
    assertThat(begin(running.id(), onlyRunning, at).run()).extracting(RunInfo::status, RunInfo::attempts)
        .containsExactly(RunStatus.RUNNING, 2);
    // A source takes its target, whatever it is, counts an attempt and gets its start if it had none.
    RunInfo paused = begin(rows.runIn(RunStatus.QUEUED, t).id(), moves(RunStatus.QUEUED, RunStatus.PAUSED), at).run();
    assertThat(paused).extracting(RunInfo::status, RunInfo::attempts, RunInfo::startedAt)
        .containsExactly(RunStatus.PAUSED, 1, at);
    Rows.Run wasPaused = rows.runIn(RunStatus.PAUSED, t);
    RunInfo requeued = begin(wasPaused.id(), moves(RunStatus.PAUSED, RunStatus.QUEUED), at).run();
    assertThat(requeued).extracting(RunInfo::status, RunInfo::attempts, RunInfo::startedAt)
        .containsExactly(RunStatus.QUEUED, 2, t);
    assertThat(run(wasPaused.id())).isEqualTo(requeued);
  }

  @Test
  void finishRunAppliesTheTableItIsGiven() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    // Without the CANCELLING row a cancelling run does not end, with its lease or without one.
    StoreParams.Moves noCancelling = moves(RunStatus.QUEUED, RunStatus.SUCCESS, RunStatus.RUNNING, RunStatus.SUCCESS,
        RunStatus.PAUSED, RunStatus.SUCCESS);
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    RunInfo before = run(cancelling.id());
    StepVerifier.create(driver.finishRun(new StoreParams.FinishRun(cancelling.id(), cancelling.lease(at),
        RunStatus.SUCCESS, noCancelling, "1", null, at))).expectComplete().verify(T);
    StepVerifier.create(driver.finishRun(new StoreParams.FinishRun(cancelling.id(), null, RunStatus.SUCCESS,
        noCancelling, "1", null, at))).expectComplete().verify(T);
    assertThat(run(cancelling.id())).isEqualTo(before);
    assertThat(find(cancelling.message().id())).isEqualTo(cancelling.message());
    // The outcome goes where the table says: the output is recorded only with SUCCESS, the error
    // only with ERROR, and a run moved to CANCELLED keeps its error.
    Rows.Run refused = rows.runIn(RunStatus.RUNNING, t);
    assertThat(driver.finishRun(new StoreParams.FinishRun(refused.id(), refused.lease(at), RunStatus.SUCCESS,
        moves(RunStatus.RUNNING, RunStatus.ERROR), "{\"total\": 3}", "refused", at)).block(T))
        .isEqualTo(RunStatus.ERROR);
    assertThat(run(refused.id())).isEqualTo(new RunInfo(refused.id(), refused.workflow(), RunStatus.ERROR,
        json("{\"order\": 1}"), null, "refused", null, 1, 0, t, t, at, null));
    assertThat(find(refused.message().id()).state()).isEqualTo(MessageState.ARCHIVED);
    Rows.Run paused = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(paused.id(), StoreParams.RunControl.PAUSE, RunTransitions.PAUSE, null, null, List.of(),
        "diverged", t).block(T).error()).isEqualTo("diverged");
    assertThat(driver.finishRun(new StoreParams.FinishRun(paused.id(), null, RunStatus.ERROR,
        moves(RunStatus.PAUSED, RunStatus.CANCELLED), null, "boom", at)).block(T)).isEqualTo(RunStatus.CANCELLED);
    assertThat(run(paused.id())).extracting(RunInfo::status, RunInfo::output, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, null, "diverged", at);
    Rows.Run succeeded = rows.runIn(RunStatus.RUNNING, t);
    assertThat(driver.finishRun(new StoreParams.FinishRun(succeeded.id(), succeeded.lease(at), RunStatus.ERROR,
        moves(RunStatus.RUNNING, RunStatus.SUCCESS), "2", "boom", at)).block(T)).isEqualTo(RunStatus.SUCCESS);
    assertThat(run(succeeded.id())).extracting(RunInfo::status, RunInfo::output, RunInfo::error)
        .containsExactly(RunStatus.SUCCESS, json("2"), null);
  }

  @Test
  void controlRunAppliesTheTableItIsGivenAndRefusesAStatusOutsideIt() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    StoreParams.Moves pauseOnlyRunning = moves(RunStatus.RUNNING, RunStatus.PAUSED);
    Rows.Run queued = rows.runIn(RunStatus.QUEUED, t);
    RunInfo before = run(queued.id());
    refused(control(queued.id(), StoreParams.RunControl.PAUSE, pauseOnlyRunning, null, null, List.of(), null, at),
        queued.id(), RunStatus.QUEUED, "pause");
    assertThat(run(queued.id())).isEqualTo(before);
    Rows.Run running = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(running.id(), StoreParams.RunControl.PAUSE, pauseOnlyRunning, null, null, List.of(), null, at)
        .block(T).status()).isEqualTo(RunStatus.PAUSED);
    // The engine's table for a resume does not know CANCELLING; neither does this one for a cancel.
    Rows.Run cancelling = rows.runIn(RunStatus.CANCELLING, t);
    refused(control(cancelling.id(), StoreParams.RunControl.CANCEL, RunTransitions.CANCEL_FREE,
        RunTransitions.CANCEL_HELD, null, List.of(), "again", at), cancelling.id(), RunStatus.CANCELLING, "cancel");
    refused(control(cancelling.id(), StoreParams.RunControl.RESUME, RunTransitions.RESUME_STARTED, null,
        RunTransitions.RESUME_UNSTARTED, List.of(), null, at), cancelling.id(), RunStatus.CANCELLING, "resume");
  }

  @Test
  void controlRunOfAStatusInItsUnchangedListChangesNothing() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    // RUNNING is a source of both cancel tables, but this control lists it unchanged.
    Rows.Run running = rows.runIn(RunStatus.RUNNING, t);
    RunInfo before = run(running.id());
    assertThat(control(running.id(), StoreParams.RunControl.CANCEL, RunTransitions.CANCEL_FREE,
        RunTransitions.CANCEL_HELD, null, List.of(RunStatus.RUNNING), "stop", at).block(T)).isEqualTo(before);
    assertThat(run(running.id())).isEqualTo(before);
    assertThat(find(running.message().id())).isEqualTo(running.message());
    // A finished run listed unchanged is returned as it is, not refused.
    Rows.Run done = rows.runIn(RunStatus.SUCCESS, t);
    RunInfo finished = run(done.id());
    assertThat(control(done.id(), StoreParams.RunControl.PAUSE, RunTransitions.PAUSE, null, null,
        List.of(RunStatus.SUCCESS), "late", at).block(T)).isEqualTo(finished);
    assertThat(run(done.id())).isEqualTo(finished);
  }

  @Test
  void controlRunPicksWhenUnstartedBeforeWhenHeldBeforeMoves() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    // Each table sends QUEUED and RUNNING to a target of its own, so the result tells which was picked.
    StoreParams.Moves unstarted = moves(RunStatus.QUEUED, RunStatus.PAUSED, RunStatus.RUNNING, RunStatus.PAUSED);
    StoreParams.Moves held = moves(RunStatus.QUEUED, RunStatus.CANCELLING, RunStatus.RUNNING, RunStatus.CANCELLING);
    StoreParams.Moves free = moves(RunStatus.QUEUED, RunStatus.CANCELLED, RunStatus.RUNNING, RunStatus.CANCELLED);
    StoreParams.RunControl cancel = StoreParams.RunControl.CANCEL;
    List<RunStatus> none = List.of();

    // Never begun, its message held: whenUnstarted wins over whenHeld.
    Rows.Run heldUnstarted = takenOver(rows.runIn(RunStatus.QUEUED, t), t);
    assertThat(control(heldUnstarted.id(), cancel, free, held, unstarted, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.PAUSED);
    // Never begun, nobody holding it: whenUnstarted still.
    Rows.Run freeUnstarted = rows.runIn(RunStatus.QUEUED, t);
    assertThat(control(freeUnstarted.id(), cancel, free, held, unstarted, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.PAUSED);
    // Begun and held: whenHeld.
    Rows.Run heldStarted = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(heldStarted.id(), cancel, free, held, unstarted, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.CANCELLING);
    // Begun, its lease run out: moves.
    Rows.Run lapsed = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(lapsed.id(), cancel, free, held, unstarted, none, "x", t.plus(LEASE)).block(T).status())
        .isEqualTo(RunStatus.CANCELLED);
    // Without whenUnstarted, a run never begun is judged by whether it is held; without whenHeld, by moves.
    Rows.Run heldQueued = takenOver(rows.runIn(RunStatus.QUEUED, t), t);
    assertThat(control(heldQueued.id(), cancel, free, held, null, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.CANCELLING);
    Rows.Run freeQueued = rows.runIn(RunStatus.QUEUED, t);
    assertThat(control(freeQueued.id(), cancel, free, held, null, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.CANCELLED);
    Rows.Run heldRunning = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(heldRunning.id(), cancel, free, null, null, none, "x", at).block(T).status())
        .isEqualTo(RunStatus.CANCELLED);
  }

  @Test
  void controlRunRefusesAStatusOutsideThePickedTableEvenIfAnotherTableHasIt() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    Rows.Run heldStarted = rows.runIn(RunStatus.RUNNING, t);
    RunInfo before = run(heldStarted.id());
    refused(control(heldStarted.id(), StoreParams.RunControl.CANCEL, moves(RunStatus.RUNNING, RunStatus.CANCELLED),
        moves(RunStatus.QUEUED, RunStatus.CANCELLING), null, List.of(), "x", at), heldStarted.id(), RunStatus.RUNNING,
        "cancel");
    assertThat(run(heldStarted.id())).isEqualTo(before);
    assertThat(find(heldStarted.message().id())).isEqualTo(heldStarted.message());
    Rows.Run unstarted = rows.runIn(RunStatus.QUEUED, t);
    refused(control(unstarted.id(), StoreParams.RunControl.RESUME, moves(RunStatus.QUEUED, RunStatus.RUNNING), null,
        moves(RunStatus.PAUSED, RunStatus.QUEUED), List.of(), null, at), unstarted.id(), RunStatus.QUEUED, "resume");
    assertThat(triggerMessage(unstarted, MessageState.LIVE).state()).isEqualTo(MessageState.LIVE);
  }

  @Test
  void whatFollowsAControlIsDecidedByItsTargetWhateverTheAction() {
    Instant t = start();
    // A move to CANCELLED ends the run and archives its live message, here by a "resume".
    Rows.Run parked = rows.runIn(RunStatus.PAUSED, t);
    assertThat(suspend(parked, t.plusSeconds(1), null, RunTransitions.WAKE_AT_ONCE,
        RunTransitions.PARKED_UNTIL_RESUMED)).isTrue();
    Instant at = t.plusSeconds(2);
    RunInfo ended = control(parked.id(), StoreParams.RunControl.RESUME, moves(RunStatus.PAUSED, RunStatus.CANCELLED),
        null, null, List.of(), "enough", at).block(T);
    assertThat(ended).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, "enough", at);
    assertThat(triggerMessage(parked, MessageState.ARCHIVED).archivedAt()).isEqualTo(at);
    // ...even while a worker holds the message: the holder's records are refused from then on.
    Rows.Run held = rows.runIn(RunStatus.RUNNING, t);
    assertThat(control(held.id(), StoreParams.RunControl.CANCEL, RunTransitions.CANCEL_FREE,
        moves(RunStatus.RUNNING, RunStatus.CANCELLED), null, List.of(), "now", at).block(T).status())
        .isEqualTo(RunStatus.CANCELLED);
    assertThat(find(held.message().id())).extracting(Message::state, Message::archivedAt)
        .containsExactly(MessageState.ARCHIVED, at);
    assertThat(recordStep(at, success(held, "1", "s", "1", 1)))
        .isEqualTo(new StoreResults.StepWritten(false, RunStatus.CANCELLED));
    // A move from PAUSED to RUNNING makes the parked message visible now, here by a "pause".
    Rows.Run resumed = rows.runIn(RunStatus.PAUSED, t);
    assertThat(suspend(resumed, t.plusSeconds(1), null, RunTransitions.WAKE_AT_ONCE,
        RunTransitions.PARKED_UNTIL_RESUMED)).isTrue();
    assertThat(control(resumed.id(), StoreParams.RunControl.PAUSE, moves(RunStatus.PAUSED, RunStatus.RUNNING), null,
        null, List.of(), null, at).block(T)).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.RUNNING, null, null);
    assertThat(find(resumed.message().id()).visibleAt()).isEqualTo(at);
    assertThat(claimedIds(resumed.workflow(), 1, at)).containsExactly(resumed.message().id());
    // ...and from PAUSED to QUEUED as well; a reason given is recorded as the run's error.
    Rows.Run requeued = rows.runIn(RunStatus.PAUSED, t);
    assertThat(suspend(requeued, t.plusSeconds(1), null, RunTransitions.WAKE_AT_ONCE,
        RunTransitions.PARKED_UNTIL_RESUMED)).isTrue();
    assertThat(control(requeued.id(), StoreParams.RunControl.CANCEL, moves(RunStatus.PAUSED, RunStatus.QUEUED), null,
        null, List.of(), "why", at).block(T)).extracting(RunInfo::status, RunInfo::error)
        .containsExactly(RunStatus.QUEUED, "why");
    assertThat(find(requeued.message().id()).visibleAt()).isEqualTo(at);
    // No reason keeps the error recorded before.
    assertThat(control(requeued.id(), StoreParams.RunControl.PAUSE, RunTransitions.PAUSE, null, null, List.of(), null,
        at).block(T)).extracting(RunInfo::status, RunInfo::error).containsExactly(RunStatus.PAUSED, "why");
  }

  @Test
  void suspendRunTakesItsVisibilityFromTheListsItIsGiven() {
    Instant t = start();
    Instant at = t.plusSeconds(1);
    Duration hour = Duration.ofHours(1);
    // Listed to wake at once: due now, whatever its wait.
    Rows.Run atOnce = rows.runIn(RunStatus.RUNNING, t);
    assertThat(suspend(atOnce, at, hour, List.of(RunStatus.RUNNING), List.of())).isTrue();
    assertThat(find(atOnce.message().id()).visibleAt()).isEqualTo(at);
    // Listed in both: waking at once comes first.
    Rows.Run both = rows.runIn(RunStatus.RUNNING, t);
    assertThat(suspend(both, at, hour, List.of(RunStatus.RUNNING), List.of(RunStatus.RUNNING))).isTrue();
    assertThat(find(both.message().id()).visibleAt()).isEqualTo(at);
    // Listed as parked: not due before its resume, however short its wait.
    Rows.Run parked = rows.runIn(RunStatus.RUNNING, t);
    assertThat(suspend(parked, at, Duration.ofSeconds(5), List.of(), List.of(RunStatus.RUNNING))).isTrue();
    assertThat(claim(parked.workflow(), 1, t.plus(Duration.ofDays(36_500))).claimed()).isEmpty();
    // Parked, a signal it waits for does not wake it either (the resume will).
    Rows.Run waiting = rows.runIn(RunStatus.PAUSED, t);
    assertThat(recordStep(t, waiting(waiting, "1", "wait", null, "approval"))).isEqualTo(
        new StoreResults.StepWritten(true, RunStatus.PAUSED));
    signal(waiting, "approval", "1", t);
    assertThat(suspend(waiting, at, null, RunTransitions.WAKE_AT_ONCE, RunTransitions.PARKED_UNTIL_RESUMED)).isTrue();
    assertThat(claim(waiting.workflow(), 1, t.plus(Duration.ofDays(36_500))).claimed()).isEmpty();
    // In neither list, a cancelling run and a paused one wait what they were told, like a running one.
    for (RunStatus status : List.of(RunStatus.CANCELLING, RunStatus.PAUSED, RunStatus.RUNNING)) {
      Rows.Run run = rows.runIn(status, t);
      assertThat(suspend(run, at, Duration.ofSeconds(5), List.of(), List.of())).isTrue();
      assertThat(find(run.message().id()).visibleAt()).as("a suspended %s run", status).isEqualTo(at.plusSeconds(5));
    }
  }

  @Test
  void reapRunsEndsOnlyTheRunsItsTableMovesAndAsItSays() {
    Instant t = start();
    String wf = rows.workflow(t);
    // Past its deadline with nobody holding it: a queued run, and a cancelling one whose lease ran out.
    long queued = trigger(wf, wf, null, null, Duration.ofMinutes(1), null, t).runId();
    long cancelling = trigger(wf, wf, null, null, Duration.ofMinutes(1), null, t).runId();
    List<Message> claimed = claim(wf, 2, t).claimed();
    assertThat(claimed).hasSize(2);
    Message cancellingMessage = claimed.stream().filter(m -> m.payload().path("run_id").asLong() == cancelling)
        .findFirst().orElseThrow();
    driver.release(new StoreParams.Release(ref(claimed.stream().filter(m -> m != cancellingMessage).findFirst()
        .orElseThrow(), t), Duration.ZERO, null)).block(T);
    begin(cancelling, t);
    assertThat(control(cancelling, StoreParams.RunControl.CANCEL, t).status()).isEqualTo(RunStatus.CANCELLING);
    Instant late = t.plus(Duration.ofMinutes(2));
    // A table that knows only QUEUED, and sends it to CANCELLED: the cancelling run is left alone,
    // and a run moved to CANCELLED keeps its (empty) error.
    driver.reapRuns(new StoreParams.ReapRuns(1000, moves(RunStatus.QUEUED, RunStatus.CANCELLED), late)).block(T);
    assertThat(run(queued)).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, null, late);
    assertThat(run(cancelling).status()).isEqualTo(RunStatus.CANCELLING);
    assertThat(find(cancellingMessage.id()).state()).isEqualTo(MessageState.LIVE);
    // The engine's table ends it CANCELLED with its cancel's reason, its message archived.
    Instant later = late.plusSeconds(1);
    driver.reapRuns(new StoreParams.ReapRuns(1000, RunTransitions.reap(), later)).block(T);
    assertThat(run(cancelling)).extracting(RunInfo::status, RunInfo::error, RunInfo::finishedAt)
        .containsExactly(RunStatus.CANCELLED, "stop", later);
    assertThat(find(cancellingMessage.id())).extracting(Message::state, Message::archivedAt)
        .containsExactly(MessageState.ARCHIVED, later);
    // A table that sends QUEUED to ERROR records why.
    long timedOut = trigger(wf, wf, null, null, Duration.ofMinutes(1), null, t).runId();
    driver.reapRuns(new StoreParams.ReapRuns(1000, moves(RunStatus.QUEUED, RunStatus.ERROR), later)).block(T);
    assertThat(run(timedOut).status()).isEqualTo(RunStatus.ERROR);
    assertThat(run(timedOut).error()).isNotNull();
  }

  // ---------------------------------------------------------------- workflow v2: reading runs

  @Test
  void findRunsReadsTheRunsThatExist() {
    Instant t = start();
    String wf = Rows.uniqueName("wf");
    driver.registerWorkflow(new StoreParams.RegisterWorkflow(wf, wf + "@v2", 3, t)).block(T);
    long plain = trigger(wf, wf, null, null, null, null, t).runId();
    long versioned = trigger(wf, wf + "@v2", "v2", null, null, null, t).runId();
    assertThat(driver.findRuns(List.of(plain, Long.MAX_VALUE, versioned)).collectList().block(T))
        .containsExactlyInAnyOrder(run(plain), run(versioned));
    assertThat(driver.findRuns(List.of(versioned)).collectList().block(T))
        .extracting(RunInfo::version).containsExactly("v2");
    assertThat(driver.findRuns(List.of()).collectList().block(T)).isEmpty();
    assertThat(driver.findRuns(List.of(Long.MAX_VALUE)).collectList().block(T)).isEmpty();
  }

  // ---------------------------------------------------------------- schedules

  /** A schedule row of the conformance tests: every minute, first tick {@code next}. */
  private StoreParams.CreateSchedule newSchedule(String name, boolean workflow, String target, String payload,
      Instant next, Instant at) {
    return new StoreParams.CreateSchedule(name, "* * * * *", "Europe/Paris", workflow, target, null, payload,
        workflow ? Duration.ofMinutes(5) : null, 2, next, at);
  }

  /** Deletes the schedules of a test: dueSchedules reads every schedule of the schema. */
  private void deleteSchedules(String... names) {
    for (String name : names) {
      driver.deleteSchedule(name).block(T);
    }
  }

  @Test
  void currentTimeIsTheOverrideOrTheStoresClock() {
    Instant t = start().minusSeconds(3600);
    assertThat(driver.currentTime(t).block(T)).isEqualTo(t);
    Instant before = Instant.now().minusSeconds(60);
    assertThat(driver.currentTime(null).block(T)).isAfter(before);
  }

  @Test
  void createScheduleKeepsEveryFieldAndRefusesATakenName() {
    Instant t = start();
    String name = Rows.uniqueName("s");
    Instant next = t.plusSeconds(60).truncatedTo(ChronoUnit.MINUTES);
    try {
      io.pgqrs.schedule.ScheduleInfo created = driver.createSchedule(newSchedule(name, true, "wf_x", "{\"a\": 1}",
          next, t)).block(T);
      assertThat(created).isEqualTo(new io.pgqrs.schedule.ScheduleInfo(name, "* * * * *",
          java.time.ZoneId.of("Europe/Paris"), new io.pgqrs.schedule.ScheduleTarget.Workflow("wf_x", null,
              json("{\"a\": 1}"), Duration.ofMinutes(5)), io.pgqrs.schedule.MissedTicks.catchUp(2), false, next,
          null, t, t));
      assertThat(driver.findSchedule(name).block(T)).isEqualTo(created);
      assertThat(driver.listSchedules().collectList().block(T)).contains(created);
      StepVerifier.create(driver.createSchedule(newSchedule(name, false, "q_x", "{}", next, t)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(
              io.pgqrs.schedule.ScheduleAlreadyExistsException.class, x -> assertThat(x.schedule()).isEqualTo(name)))
          .verify(T);
      StepVerifier.create(driver.findSchedule(Rows.uniqueName("s"))).expectComplete().verify(T);
    } finally {
      deleteSchedules(name);
    }
  }

  @Test
  void declareScheduleCreatesOrUpdatesKeepingThePausedFlagAndTheNextTickOfTheSameCron() {
    Instant t = start();
    String name = Rows.uniqueName("s");
    Instant next = t.plusSeconds(60).truncatedTo(ChronoUnit.MINUTES);
    try {
      io.pgqrs.schedule.ScheduleInfo first = driver.declareSchedule(newSchedule(name, false, "q_x", "{}", next, t))
          .block(T);
      assertThat(first.nextFireAt()).isEqualTo(next);
      driver.pauseSchedule(new StoreParams.PauseSchedule(name, true, null, t)).block(T);
      // The same definition again, later: nothing changes, not even the update time.
      io.pgqrs.schedule.ScheduleInfo same = driver.declareSchedule(newSchedule(name, false, "q_x", "{}",
          next.plusSeconds(60), t.plusSeconds(5))).block(T);
      assertThat(same.nextFireAt()).isEqualTo(next);
      assertThat(same.paused()).isTrue();
      assertThat(same.updatedAt()).isEqualTo(t);
      // A new payload keeps the next tick; a new cron takes the one given.
      io.pgqrs.schedule.ScheduleInfo payload = driver.declareSchedule(newSchedule(name, false, "q_x", "{\"b\": 2}",
          next.plusSeconds(60), t.plusSeconds(6))).block(T);
      assertThat(payload.nextFireAt()).isEqualTo(next);
      assertThat(payload.updatedAt()).isEqualTo(t.plusSeconds(6));
      assertThat(payload.target()).isEqualTo(new io.pgqrs.schedule.ScheduleTarget.Queue("q_x", json("{\"b\": 2}")));
      io.pgqrs.schedule.ScheduleInfo cron = driver.declareSchedule(new StoreParams.CreateSchedule(name, "*/2 * * * *",
          "Europe/Paris", false, "q_x", null, "{}", null, 1, next.plusSeconds(120), t.plusSeconds(7))).block(T);
      assertThat(cron.cron()).isEqualTo("*/2 * * * *");
      assertThat(cron.nextFireAt()).isEqualTo(next.plusSeconds(120));
      assertThat(cron.paused()).isTrue();
      assertThat(cron.createdAt()).isEqualTo(t);
    } finally {
      deleteSchedules(name);
    }
  }

  @Test
  void pauseAndResumeScheduleAndDeleteIt() {
    Instant t = start();
    String name = Rows.uniqueName("s");
    Instant next = t.plusSeconds(60).truncatedTo(ChronoUnit.MINUTES);
    driver.createSchedule(newSchedule(name, false, "q_x", "{}", next, t)).block(T);
    io.pgqrs.schedule.ScheduleInfo paused = driver.pauseSchedule(new StoreParams.PauseSchedule(name, true,
        next.plusSeconds(600), t.plusSeconds(1))).block(T);
    assertThat(paused.paused()).isTrue();
    assertThat(paused.nextFireAt()).as("pausing keeps the next tick").isEqualTo(next);
    assertThat(paused.updatedAt()).isEqualTo(t.plusSeconds(1));
    io.pgqrs.schedule.ScheduleInfo resumed = driver.pauseSchedule(new StoreParams.PauseSchedule(name, false,
        next.plusSeconds(600), t.plusSeconds(2))).block(T);
    assertThat(resumed.paused()).isFalse();
    assertThat(resumed.nextFireAt()).isEqualTo(next.plusSeconds(600));
    io.pgqrs.schedule.ScheduleInfo again = driver.pauseSchedule(new StoreParams.PauseSchedule(name, false,
        next.plusSeconds(1200), t.plusSeconds(3))).block(T);
    assertThat(again).as("resuming a running schedule changes nothing").isEqualTo(resumed);
    StepVerifier.create(driver.pauseSchedule(new StoreParams.PauseSchedule(Rows.uniqueName("s"), true, null, t)))
        .expectComplete().verify(T);
    assertThat(driver.deleteSchedule(name).block(T)).isTrue();
    assertThat(driver.deleteSchedule(name).block(T)).isFalse();
    StepVerifier.create(driver.findSchedule(name)).expectComplete().verify(T);
  }

  @Test
  void dueSchedulesReadsTheDueOnesEarliestFirstAndTheWaitUntilTheNextAhead() {
    Instant t = start().truncatedTo(ChronoUnit.MINUTES).plusSeconds(3600);
    String early = Rows.uniqueName("s");
    String late = Rows.uniqueName("s");
    String ahead = Rows.uniqueName("s");
    String paused = Rows.uniqueName("s");
    try {
      driver.createSchedule(newSchedule(late, false, "q_x", "{}", t.minusSeconds(60), t)).block(T);
      driver.createSchedule(newSchedule(early, false, "q_x", "{}", t.minusSeconds(120), t)).block(T);
      driver.createSchedule(newSchedule(ahead, false, "q_x", "{}", t.plusSeconds(90), t)).block(T);
      driver.createSchedule(newSchedule(paused, false, "q_x", "{}", t.minusSeconds(180), t)).block(T);
      driver.pauseSchedule(new StoreParams.PauseSchedule(paused, true, null, t)).block(T);

      StoreResults.DueSchedules due = driver.dueSchedules(new StoreParams.DueSchedules(10, t)).block(T);
      assertThat(due.now()).isEqualTo(t);
      assertThat(due.due()).extracting(io.pgqrs.schedule.ScheduleInfo::name).containsExactly(early, late);
      assertThat(due.untilNextFire()).isEqualTo(Duration.ofSeconds(90));
      assertThat(driver.dueSchedules(new StoreParams.DueSchedules(1, t)).block(T).due())
          .extracting(io.pgqrs.schedule.ScheduleInfo::name).containsExactly(early);
      StoreResults.DueSchedules none = driver.dueSchedules(new StoreParams.DueSchedules(10, t.minusSeconds(600)))
          .block(T);
      assertThat(none.due()).isEmpty();
      assertThat(none.untilNextFire()).isEqualTo(Duration.ofSeconds(600 - 120));
    } finally {
      deleteSchedules(early, late, ahead, paused);
    }
  }

  @Test
  void fireScheduleMovesItOnFromTheTickItReadAndCreatesOneRunPerTick() {
    Instant t = start();
    String wf = rows.workflow(t);
    String name = Rows.uniqueName("s");
    Instant tick = t.truncatedTo(ChronoUnit.MINUTES).plusSeconds(60);
    try {
      driver.createSchedule(newSchedule(name, true, wf, "{\"x\": 1}", tick, t)).block(T);
      List<StoreParams.FireTick> ticks = List.of(new StoreParams.FireTick(tick, "schedule:" + name + ":1"),
          new StoreParams.FireTick(tick.plusSeconds(60), "schedule:" + name + ":2"));
      Instant at = tick.plusSeconds(61);
      StoreParams.FireSchedule fire = new StoreParams.FireSchedule(name, tick, tick.plusSeconds(120), ticks, at);
      assertThat(driver.fireSchedule(fire).block(T)).isEqualTo(new StoreResults.ScheduleFired(true, 2));
      assertThat(driver.fireSchedule(fire).block(T)).as("the tick moved on").isEqualTo(
          new StoreResults.ScheduleFired(false, 0));
      io.pgqrs.schedule.ScheduleInfo after = driver.findSchedule(name).block(T);
      assertThat(after.nextFireAt()).isEqualTo(tick.plusSeconds(120));
      assertThat(after.lastFiredAt()).isEqualTo(tick.plusSeconds(60));
      List<RunInfo> runs = driver.listRuns(new StoreParams.ListRuns(io.pgqrs.workflow.RunQuery.all().withWorkflow(wf)))
          .collectList().block(T);
      assertThat(runs).extracting(RunInfo::idempotencyKey)
          .containsExactlyInAnyOrder("schedule:" + name + ":1", "schedule:" + name + ":2");
      assertThat(runs).allSatisfy(run -> {
        assertThat(run.input()).isEqualTo(json("{\"x\": 1}"));
        assertThat(run.createdAt()).isEqualTo(at);
        assertThat(run.deadline()).isEqualTo(at.plus(Duration.ofMinutes(5)));
        assertThat(run.status()).isEqualTo(RunStatus.QUEUED);
      });
      assertThat(listIds(wf, MessageState.LIVE)).hasSize(2);
      // A key already used creates nothing, and still moves the schedule on.
      assertThat(driver.fireSchedule(new StoreParams.FireSchedule(name, tick.plusSeconds(120), tick.plusSeconds(180),
          List.of(new StoreParams.FireTick(tick.plusSeconds(120), "schedule:" + name + ":2")), at)).block(T))
          .isEqualTo(new StoreResults.ScheduleFired(true, 0));
    } finally {
      deleteSchedules(name);
    }
  }

  @Test
  void fireScheduleEnqueuesMessagesWithTheKeyAsDedupKey() {
    Instant t = start();
    String q = rows.queue(t);
    String name = Rows.uniqueName("s");
    Instant tick = t.truncatedTo(ChronoUnit.MINUTES).plusSeconds(60);
    try {
      driver.createSchedule(newSchedule(name, false, q, "{\"m\": 1}", tick, t)).block(T);
      assertThat(driver.fireSchedule(new StoreParams.FireSchedule(name, tick, tick.plusSeconds(60),
          List.of(new StoreParams.FireTick(tick, "schedule:" + name + ":" + tick.getEpochSecond())), tick)).block(T))
          .isEqualTo(new StoreResults.ScheduleFired(true, 1));
      List<Message> messages = driver.listMessages(new StoreParams.ListMessages(q, MessageState.LIVE, 0, 10))
          .collectList().block(T);
      assertThat(messages).singleElement().satisfies(m -> {
        assertThat(m.payload()).isEqualTo(json("{\"m\": 1}"));
        assertThat(m.dedupKey()).isEqualTo("schedule:" + name + ":" + tick.getEpochSecond());
        assertThat(m.enqueuedAt()).isEqualTo(tick);
      });
    } finally {
      deleteSchedules(name);
    }
  }

  @Test
  void fireScheduleChangesNothingWhenPausedOrWhenTheTargetIsMissing() {
    Instant t = start();
    String name = Rows.uniqueName("s");
    String missing = Rows.uniqueName("s");
    Instant tick = t.truncatedTo(ChronoUnit.MINUTES).plusSeconds(60);
    try {
      driver.createSchedule(newSchedule(name, false, rows.queue(t), "{}", tick, t)).block(T);
      driver.pauseSchedule(new StoreParams.PauseSchedule(name, true, null, t)).block(T);
      List<StoreParams.FireTick> one = List.of(new StoreParams.FireTick(tick, "k-paused"));
      assertThat(driver.fireSchedule(new StoreParams.FireSchedule(name, tick, tick.plusSeconds(60), one, tick))
          .block(T)).isEqualTo(new StoreResults.ScheduleFired(false, 0));
      assertThat(driver.findSchedule(name).block(T).nextFireAt()).isEqualTo(tick);

      String absent = Rows.uniqueName("wf");
      driver.createSchedule(newSchedule(missing, true, absent, "{}", tick, t)).block(T);
      StepVerifier.create(driver.fireSchedule(new StoreParams.FireSchedule(missing, tick, tick.plusSeconds(60),
              List.of(new StoreParams.FireTick(tick, "k-missing")), tick)))
          .expectError(WorkflowNotFoundException.class)
          .verify(T);
      io.pgqrs.schedule.ScheduleInfo after = driver.findSchedule(missing).block(T);
      assertThat(after.nextFireAt()).as("rolled back").isEqualTo(tick);
      assertThat(after.lastFiredAt()).isNull();
    } finally {
      deleteSchedules(name, missing);
    }
  }
}
