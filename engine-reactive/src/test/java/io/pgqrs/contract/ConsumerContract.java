package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.RetryLaterException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.internal.EngineProbe;
import io.pgqrs.internal.FaultyStore;
import io.pgqrs.testing.DelayRecordingScheduler;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.Outcome;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.testing.StateWait;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Consumers: backpressured delivery streams, the handler runtime (acks, retries, dead letters,
 * timeouts, lease keep-alive), wake-ups, suspension and graceful shutdown.
 */
public abstract class ConsumerContract extends StoreContract {

  /** Long enough that only a wake-up (or a due message) explains a prompt delivery. */
  private static final Duration NEVER_POLL = Duration.ofMinutes(10);

  protected void enqueue(String queue, int count) {
    producer(queue).enqueuePayloads(IntStream.range(0, count).mapToObj(StoreContract::payload).toList()).block(T);
  }

  private QueueMetrics metrics(String queue) {
    return store.queues().metrics(queue).block(T);
  }

  /** Waits until a fresh read of the store's state satisfies a condition, failing after {@link #T}. */
  protected static void await(String what, Supplier<Mono<Boolean>> condition) {
    StateWait.until(what, T, condition);
  }

  /** Whether every worker of the queue (none counts too) is stopped, read now. */
  private Mono<Boolean> allWorkersStopped(String queue) {
    return store.workers().list(queue).all(w -> w.status() == WorkerStatus.STOPPED);
  }

  private Mono<Long> workerCount(String queue) {
    return store.workers().list(queue).count();
  }

  private List<WorkerInfo> workers(String queue) {
    return store.workers().list(queue).collectList().block(T);
  }

  /** Checks that an outcome is the archiving of message {@code id}. */
  private static java.util.function.Consumer<Outcome> archives(long id) {
    return o -> {
      assertThat(o.messageId()).isEqualTo(id);
      assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED);
    };
  }

  private Consumer.Builder consumer(String queue) {
    return store.consumer(queue).heartbeatInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofMillis(300));
  }

  // ---------------------------------------------------------------- backpressure

  @Test
  void deliversOnlyWhatWasRequestedAndClaimsNoMore() {
    String q = newQueue();
    enqueue(q, 10);
    StepVerifier.create(consumer(q).batchSize(50).build().deliveries(), 0)
        .thenRequest(3)
        .expectNextCount(3)
        .then(() -> assertThat(metrics(q).leased()).isEqualTo(3))
        .thenRequest(2)
        .expectNextCount(2)
        .then(() -> assertThat(metrics(q).leased()).isEqualTo(5))
        .thenCancel()
        .verify(T);
  }

  @Test
  void holdsNoMoreThanTheInFlightBound() {
    String q = newQueue();
    enqueue(q, 10);
    List<Delivery> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    StepVerifier.create(consumer(q).batchSize(10).maxInFlight(4).build().deliveries())
        .recordWith(() -> got)
        .expectNextCount(4)
        .then(() -> assertThat(metrics(q).leased()).isEqualTo(4))
        .then(() -> assertThat(got.get(0).ack().block(T)).isTrue())
        .expectNextCount(1)
        .then(() -> assertThat(metrics(q).leased()).isEqualTo(4))
        .thenCancel()
        .verify(T);
  }

  @Test
  void aDeliveryIsSettledOnce() {
    String q = newQueue();
    enqueue(q, 1);
    Delivery d = consumer(q).shutdownTimeout(Duration.ofSeconds(10)).build().deliveries().blockFirst(T);
    assertThat(d.payload(com.fasterxml.jackson.databind.JsonNode.class).get("n").asInt()).isZero();
    assertThat(d.ack().block(T)).isTrue();
    assertThat(d.settled()).isTrue();
    assertThat(d.ack().block(T)).isFalse();
    assertThat(d.release(Duration.ZERO, null).block(T)).isFalse();
    assertThat(metrics(q).archived()).isEqualTo(1);
  }

  @Test
  void aSettleWithABadArgumentIsRefusedBeforeTheStoreAndTheDeliveryStaysHeld() {
    String q = newQueue();
    enqueue(q, 1);
    Delivery d = consumer(q).shutdownTimeout(Duration.ofSeconds(10)).build().deliveries().blockFirst(T);
    StepVerifier.create(d.release(Duration.ofSeconds(-1), null))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("delay"))
        .verify(T);
    StepVerifier.create(d.deadLetter("bad \uD800"))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("error"))
        .verify(T);
    assertThat(d.settled()).isFalse();
    assertThat(d.leaseLost()).isFalse();
    assertThat(metrics(q).leased()).isEqualTo(1);
    assertThat(d.release(Duration.ofMinutes(1), "corrected").block(T)).isTrue();
    assertThat(store.messages().get(d.message().id()).block(T).lastError()).isEqualTo("corrected");
  }

  @Test
  void aDeliverySettledAfterCancellationStillCounts() {
    String q = newQueue();
    enqueue(q, 2);
    // take(2) cancels the stream: the deliveries stay ours to settle within the shutdown timeout.
    List<Delivery> got = consumer(q).shutdownTimeout(Duration.ofSeconds(20)).build().deliveries()
        .take(2).collectList().block(T);
    assertThat(Flux.fromIterable(got).flatMap(Delivery::ack).collectList().block(T)).containsOnly(true);
    await("the worker stopped", () -> allWorkersStopped(q));
    assertThat(metrics(q).archived()).isEqualTo(2);
  }

  @Test
  void anUnknownQueueEndsTheStream() {
    StepVerifier.create(store.consumer("no_such_queue").build().deliveries())
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void badSettingsAreRefused() {
    Consumer.Builder b = store.consumer("any");
    assertThatThrownBy(() -> b.batchSize(0)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.maxInFlight(10_001)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.concurrency(-1)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.prefetch(-1)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("prefetch");
    assertThatThrownBy(() -> b.prefetch(10_001)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.lease(Duration.ZERO)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.pollInterval(Duration.ofSeconds(-1))).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.shutdownTimeout(Duration.ofSeconds(-1))).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> b.workerName("")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> store.consumer("bad name!")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> new RetryLaterException(Duration.ofSeconds(-1), "x"))
        .isInstanceOf(InvalidArgumentException.class);
  }

  // ---------------------------------------------------------------- wake-ups

  /** Overridden where wake-ups are off (behind a transaction-mode pooler), with what holds there. */
  @Test
  protected void anIdleStreamWakesOnEnqueueWithoutWaitingForThePoll() {
    String q = newQueue();
    enqueue(q, 1);
    StepVerifier.create(consumer(q).pollInterval(NEVER_POLL).lease(Duration.ofMinutes(5)).build().deliveries())
        .expectNextCount(1) // the first claim came back short: the stream is idle now
        .then(() -> enqueue(q, 1))
        .expectNextCount(1)
        .thenCancel()
        .verify(T);
  }

  @Test
  void aDelayedMessageIsClaimedWhenDueWithoutWaitingForThePoll() {
    String q = newQueue();
    producer(q).enqueueDelayed(payload(1), Duration.ofMillis(300)).block(T);
    StepVerifier.create(consumer(q).pollInterval(NEVER_POLL).build().deliveries())
        .assertNext(d -> assertThat(d.message().attempts()).isEqualTo(1))
        .thenCancel()
        .verify(T);
  }

  @Test
  void pollOnlyStreamsStillDeliver() {
    String q = newQueue();
    StepVerifier.create(consumer(q).wakeups(false).pollInterval(Duration.ofMillis(100)).build().deliveries())
        .then(() -> enqueue(q, 2))
        .expectNextCount(2)
        .thenCancel()
        .verify(T);
  }

  // ---------------------------------------------------------------- handlers

  @Test
  void handlerSuccessArchivesEveryMessageOnce() {
    String q = newQueue();
    enqueue(q, 30);
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    List<Outcome> outcomes = consumer(q).concurrency(4).batchSize(5).build()
        .handle(m -> Mono.fromRunnable(() -> {
          if (!seen.add(m.id())) {
            duplicates.incrementAndGet();
          }
        }))
        .take(30)
        .collectList()
        .block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    assertThat(outcomes).extracting(Outcome::messageId).doesNotHaveDuplicates();
    assertThat(duplicates).hasValue(0);
    await("all archived", () -> store.queues().metrics(q).map(m -> m.archived() == 30));
    assertThat(metrics(q).live()).isZero();
  }

  @Test
  void aHandlerRunClaimsSeveralMessagesPerStatementWhileItsHandlersFinishOneByOne() {
    String q = newQueue();
    int messages = 60;
    enqueue(q, messages);
    try (FaultyStore faulty = FaultyStore.over(store)) {
      // Eight handlers finishing one at a time free one place at a time; the claims still take
      // several messages each.
      handlesUntilArchived(faulty.store().consumer(q).concurrency(8).batchSize(10).build(),
          m -> Mono.delay(Duration.ofMillis(5)), messages);
      assertThat(faulty.calls("claim")).as("claims for %s messages", messages).isLessThanOrEqualTo(messages / 4);
    }
  }

  @Test
  void aHandlerRunClaimsWhatItsFreeHandlersCanRunWhateverTheBatchSize() {
    String q = newQueue();
    int messages = 40;
    enqueue(q, messages);
    try (FaultyStore faulty = FaultyStore.over(store)) {
      // Batch size 1 caps a deliveries() claim, not a handler run's: eight free handlers on a
      // backlog are filled by a claim of eight (with nothing claimed ahead of them).
      handlesUntilArchived(faulty.store().consumer(q).concurrency(8).prefetch(0).batchSize(1).build(),
          m -> Mono.empty(), messages);
      List<Integer> limits = claimLimits(faulty);
      assertThat(limits).as("claim sizes").isNotEmpty().allSatisfy(n -> assertThat(n).isBetween(1, 8));
      assertThat(limits.get(0)).as("the first claim, with every handler free").isEqualTo(8);
      assertThat(faulty.calls("claim")).as("claims for %s messages", messages).isLessThanOrEqualTo(messages / 2);
    }
  }

  @Test
  void aHandlerRunClaimsAheadOfItsHandlersByThePrefetchAndRunsNoMoreThanItsConcurrency() {
    String q = newQueue();
    int messages = 60;
    enqueue(q, messages);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostRunning = new AtomicInteger();
    try (FaultyStore faulty = FaultyStore.over(store)) {
      handlesUntilArchived(faulty.store().consumer(q).concurrency(2).prefetch(6).batchSize(1).build(),
          m -> Mono.fromRunnable(() -> mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max))
                  .then(Mono.fromRunnable(running::decrementAndGet)), messages);
      List<Integer> limits = claimLimits(faulty);
      assertThat(limits).as("claim sizes").isNotEmpty().allSatisfy(n -> assertThat(n).isBetween(1, 8));
      assertThat(limits.get(0)).as("the first claim: two handlers and six ahead").isEqualTo(8);
      // A slow store (Turso) lets a top-up wait run out now and then, so not every claim is full.
      assertThat(faulty.calls("claim")).as("claims for %s messages", messages).isLessThanOrEqualTo(messages / 2);
    }
    assertThat(mostRunning.get()).as("handlers running at once").isBetween(1, 2);
    assertThat(metrics(q).archived()).isEqualTo(messages);
  }

  @Test
  void withoutAPrefetchOfItsOwnAHandlerRunOfFastHandlersGrowsItsClaimsPastTwiceItsConcurrency() {
    String q = newQueue();
    int messages = 300;
    enqueue(q, messages);
    try (FaultyStore faulty = FaultyStore.over(store)) {
      // Handlers that return at once finish in a fraction of a claim's round trip: the prefetch
      // grows from the concurrency (claims of at most two) towards its ceiling, 1 + 32.
      handlesUntilArchived(faulty.store().consumer(q).concurrency(1).batchSize(1).build(),
          m -> Mono.empty(), messages);
      List<Integer> limits = claimLimits(faulty);
      assertThat(limits.get(0)).as("the first claim, before any handler ran").isEqualTo(2);
      assertThat(limits).as("claim sizes").allSatisfy(n -> assertThat(n).isBetween(1, 33));
      assertThat(limits.stream().mapToInt(Integer::intValue).max().orElse(0)).as("the largest claim")
          .isGreaterThan(2);
    }
    assertThat(metrics(q).archived()).isEqualTo(messages);
  }

  @Test
  void withoutAPrefetchOfItsOwnAHandlerRunOfSlowHandlersHoldsNoMoreThanTwiceItsConcurrency() {
    String q = newQueue();
    int messages = 8;
    enqueue(q, messages);
    try (FaultyStore faulty = FaultyStore.over(store)) {
      // A handler of 100 ms is far slower than a claim: one message ahead of the running one is
      // enough, and a second instance could start the rest.
      handlesUntilArchived(faulty.store().consumer(q).concurrency(1).batchSize(1).build(),
          m -> Mono.delay(Duration.ofMillis(100)), messages);
      assertThat(claimLimits(faulty)).as("claim sizes").isNotEmpty().allSatisfy(n -> assertThat(n).isBetween(1, 2));
    }
    assertThat(metrics(q).archived()).isEqualTo(messages);
  }

  /** Runs the consumer's handler until {@code messages} of its outcomes are ARCHIVED, then ends it. */
  private static void handlesUntilArchived(Consumer consumer,
      java.util.function.Function<? super Message, ? extends org.reactivestreams.Publisher<?>> handler, int messages) {
    StepVerifier.create(consumer.handle(handler)
            .filter(o -> o.kind() == Outcome.Kind.ARCHIVED)
            .take(messages))
        .expectNextCount(messages)
        .expectComplete()
        .verify(T);
  }

  /** The size each claim through the faulty store asked for, in call order. */
  private static List<Integer> claimLimits(FaultyStore faulty) {
    return faulty.firstArguments("claim").stream().map(p -> ((StoreParams.Claim) p).limit()).toList();
  }

  @Test
  void prefetchedMessagesNotStartedAreReleasedAtShutdownAndClaimableAtOnce() {
    String q = newQueue();
    enqueue(q, 5);
    Sinks.Empty<Void> stop = Sinks.empty();
    Sinks.Empty<Void> handlerStarted = Sinks.empty();
    // One handler holds the first message until the stop; the other four wait, prefetched. The
    // stop waits for that handler to start: five leased in the store may still be a claim whose
    // answer has not reached the consumer, and a stop then releases all five unstarted.
    StepVerifier.create(consumer(q).concurrency(1).prefetch(4).shutdownTimeout(Duration.ofSeconds(20)).build()
            .handle(m -> Mono.fromRunnable(handlerStarted::tryEmitEmpty).then(stop.asMono()), stop.asMono()))
        .then(() -> handlerStarted.asMono().block(T))
        .then(() -> await("five leased", () -> store.queues().metrics(q).map(m -> m.leased() == 5)))
        .then(stop::tryEmitEmpty)
        .recordWith(java.util.ArrayList::new)
        .expectNextCount(5)
        .consumeRecordedWith(outcomes -> assertThat(outcomes).extracting(Outcome::kind)
            .containsOnlyOnce(Outcome.Kind.ARCHIVED)
            .filteredOn(k -> k != Outcome.Kind.ARCHIVED).containsOnly(Outcome.Kind.RELEASED_ON_SHUTDOWN))
        .expectComplete()
        .verify(T);
    QueueMetrics m = metrics(q);
    assertThat(m.archived()).isEqualTo(1);
    assertThat(m.leased()).isZero();
    assertThat(m.pending()).as("released without delay: claimable at once").isEqualTo(4);
    StepVerifier.create(consumer(q).build().deliveries().take(4))
        .expectNextCount(4)
        .expectComplete()
        .verify(T);
  }

  @Test
  void messagesOfAClaimAnsweredAfterTheStopAreReleasedAndReportedAsReleased() {
    String q = newQueue();
    enqueue(q, 3);
    Sinks.Empty<Void> answer = Sinks.empty();
    Sinks.Empty<Void> stop = Sinks.empty();
    try (FaultyStore faulty = FaultyStore.over(store)) {
      faulty.holdAnswers("claim", answer.asMono());
      // The claim commits, the stop comes while its answer is on the way, then the answer arrives.
      StepVerifier.create(faulty.store().consumer(q).concurrency(3).prefetch(0).build()
              .handle(m -> Mono.empty(), stop.asMono()))
          .then(() -> await("three leased", () -> store.queues().metrics(q).map(m -> m.leased() == 3)))
          .then(stop::tryEmitEmpty)
          .then(answer::tryEmitEmpty)
          .recordWith(java.util.ArrayList::new)
          .expectNextCount(3)
          .consumeRecordedWith(outcomes -> assertThat(outcomes).extracting(Outcome::kind)
              .containsOnly(Outcome.Kind.RELEASED_ON_SHUTDOWN))
          .expectComplete()
          .verify(T);
    }
    QueueMetrics m = metrics(q);
    assertThat(m.leased()).isZero();
    assertThat(m.pending()).as("released without delay: claimable at once").isEqualTo(3);
  }

  @Test
  void aDeliveryHandlerMaySettleItsMessagesItselfAndWhatItDidStands() {
    String q = newQueue();
    List<Long> ids = producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    long deadOne = ids.get(1);
    long leftAlone = ids.get(2);
    List<Outcome> outcomes = consumer(q).concurrency(3).build()
        .handleDeliveries(d -> {
          if (d.message().id() == deadOne) {
            // Settled, then failed: the dead letter stands, the error does not retry it.
            return d.deadLetter("refused by the handler").then(Mono.error(new IllegalStateException("after")));
          }
          if (d.message().id() == leftAlone) {
            return Mono.empty();
          }
          return d.delete();
        })
        .take(3).collectList().block(T);
    assertThat(outcomes).filteredOn(o -> o.messageId() == leftAlone).extracting(Outcome::kind)
        .containsExactly(Outcome.Kind.ARCHIVED);
    assertThat(outcomes).filteredOn(o -> o.messageId() != leftAlone).extracting(Outcome::kind)
        .containsOnly(Outcome.Kind.SETTLED_BY_HANDLER).hasSize(2);
    assertThat(store.messages().get(deadOne).block(T).state()).isEqualTo(MessageState.DEAD);
    assertThat(store.messages().get(deadOne).block(T).lastError()).isEqualTo("refused by the handler");
    assertThat(store.messages().get(leftAlone).block(T).state()).isEqualTo(MessageState.ARCHIVED);
    assertThatThrownBy(() -> store.messages().get(ids.get(0)).block(T)).as("deleted by the handler")
        .isInstanceOf(io.pgqrs.queue.MessageNotFoundException.class);
    QueueMetrics m = metrics(q);
    assertThat(m.live()).isZero();
    assertThatThrownBy(() -> consumer(q).build().handleDeliveries(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void anOutcomeTellsWhenItsMessageWasEnqueued() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Instant enqueuedAt = store.messages().get(id).block(T).enqueuedAt();
    StepVerifier.create(consumer(q).build().handle(m -> Mono.empty()).take(1))
        .assertNext(o -> {
          assertThat(o.messageId()).isEqualTo(id);
          assertThat(o.enqueuedAt()).isEqualTo(enqueuedAt);
        })
        .expectComplete()
        .verify(T);
  }

  @Test
  void deleteOnSuccessDeletes() {
    String q = newQueue();
    enqueue(q, 3);
    List<Outcome> outcomes = consumer(q).deleteOnSuccess(true).build().handle(m -> Mono.empty())
        .take(3).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.DELETED);
    assertThat(metrics(q).archived()).isZero();
    assertThat(metrics(q).live()).isZero();
  }

  @Test
  void failuresAreRetriedThenDeadLetteredWithTheLastError() {
    String q = newQueue(3);
    long id = producer(q).enqueue(payload(1)).block(T);
    AtomicInteger calls = new AtomicInteger();
    List<Outcome> outcomes = consumer(q).retryPolicy(RetryPolicy.fixed(Duration.ZERO)).build()
        .handle(m -> Mono.error(new IllegalStateException("boom " + calls.incrementAndGet())))
        .take(3).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsExactly(Outcome.Kind.RETRY_SCHEDULED,
        Outcome.Kind.RETRY_SCHEDULED, Outcome.Kind.DEAD_LETTERED);
    assertThat(outcomes).extracting(Outcome::attempts).containsExactly(1, 2, 3);
    Message dead = store.messages().get(id).block(T);
    assertThat(dead.state()).isEqualTo(MessageState.DEAD);
    assertThat(dead.attempts()).isEqualTo(3);
    assertThat(dead.lastError()).contains("boom 3");
  }

  @Test
  void retryDelaysFollowThePolicy() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Outcome outcome = consumer(q).retryPolicy(RetryPolicy.exponential(Duration.ofMinutes(1), Duration.ofMinutes(10)))
        .build()
        .handle(m -> Mono.error(new IllegalStateException("later")))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY_SCHEDULED);
    assertThat(outcome.retryIn()).isEqualTo(Duration.ofMinutes(1));
    Message m = store.messages().get(id).block(T);
    assertThat(m.visibleAt()).isAfter(Instant.now().plusSeconds(50));
    assertThat(m.leaseToken()).isNull();
  }

  @Test
  void errorsThePolicyDoesNotRetryAreDeadLetteredAtOnce() {
    String q = newQueue(5);
    enqueue(q, 1);
    Outcome outcome = consumer(q)
        .retryPolicy(RetryPolicy.fixed(Duration.ZERO).retryIf(e -> !(e instanceof IllegalArgumentException)))
        .build()
        .handle(m -> Mono.error(new IllegalArgumentException("bad payload")))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.DEAD_LETTERED);
    assertThat(outcome.attempts()).isEqualTo(1);
    assertThat(outcome.error()).contains("bad payload");
  }

  @Test
  void aHandlerMayAskToRetryAfterADelay() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Outcome outcome = consumer(q).build()
        .handle(m -> Mono.error(new RetryLaterException(Duration.ofMinutes(3), "rate limited upstream")))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY_SCHEDULED);
    assertThat(outcome.retryIn()).isEqualTo(Duration.ofMinutes(3));
    Message m = store.messages().get(id).block(T);
    assertThat(m.lastError()).isEqualTo("rate limited upstream");
    assertThat(m.visibleAt()).isAfter(Instant.now().plusSeconds(150));
  }

  @Test
  void aHandlerThatThrowsOrReturnsNullFails() {
    String q = newQueue();
    enqueue(q, 2);
    AtomicInteger n = new AtomicInteger();
    List<Outcome> outcomes = consumer(q).concurrency(1).retryPolicy(RetryPolicy.fixed(Duration.ofMinutes(1))).build()
        .handle(m -> {
          if (n.incrementAndGet() == 1) {
            throw new IllegalStateException("thrown");
          }
          return null;
        })
        .take(2).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.RETRY_SCHEDULED);
    assertThat(outcomes).extracting(Outcome::error).anyMatch(e -> e.contains("thrown"))
        .anyMatch(e -> e.contains("null"));
  }

  @Test
  void aHandlerThatNeverCompletesTimesOutAndIsReleased() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    AtomicInteger cancelled = new AtomicInteger();
    Outcome outcome = consumer(q).handlerTimeout(Duration.ofMillis(200)).retryPolicy(RetryPolicy.fixed(Duration.ofMinutes(1)))
        .build()
        .handle(m -> Mono.never().doOnCancel(cancelled::incrementAndGet))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY_SCHEDULED);
    assertThat(outcome.error()).contains("timed out");
    assertThat(cancelled).hasValue(1);
    assertThat(store.messages().get(id).block(T).leaseToken()).isNull();
  }

  @Test
  void aLongHandlerKeepsItsMessage() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    AtomicInteger calls = new AtomicInteger();
    // Runs for more than three lease periods: only the keep-alive explains a single delivery.
    // The lease leaves the keep-alive (every third of it) room for a slow statement on a busy machine.
    Outcome outcome = consumer(q).lease(Duration.ofMillis(1200)).build()
        .handle(m -> Mono.delay(Duration.ofMillis(4000)).doOnSubscribe(s -> calls.incrementAndGet()))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.ARCHIVED);
    assertThat(outcome.attempts()).isEqualTo(1);
    assertThat(calls).hasValue(1);
    assertThat(store.messages().get(id).block(T).attempts()).isEqualTo(1);
  }

  @Test
  void oneStatementPerTickKeepsEveryLeaseOfEverySession() {
    String q = newQueue();
    enqueue(q, 6);
    try (FaultyStore faulty = FaultyStore.over(store)) {
      Sinks.Empty<Void> finish = Sinks.empty();
      AtomicInteger running = new AtomicInteger();
      // Two subscriptions, three messages each: only one keeper for the engine explains statements
      // that each carry all six leases.
      Consumer consumer = faulty.store().consumer(q).lease(Duration.ofMillis(1200)).batchSize(3).maxInFlight(3)
          .concurrency(3).heartbeatInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofSeconds(5)).build();
      Sinks.Many<Outcome> outcomes = Sinks.many().replay().all();
      List<reactor.core.Disposable> runs = List.of(
          consumer.handle(m -> finish.asMono().doOnSubscribe(s -> running.incrementAndGet()))
              .subscribe(o -> outcomes.emitNext(o, Sinks.EmitFailureHandler.busyLooping(T))),
          consumer.handle(m -> finish.asMono().doOnSubscribe(s -> running.incrementAndGet()))
              .subscribe(o -> outcomes.emitNext(o, Sinks.EmitFailureHandler.busyLooping(T))));
      try {
        await("six handlers running", () -> Mono.fromSupplier(() -> running.get() == 6));
        int before = faulty.calls("extendMany");
        // Four ticks of a third of the lease: more than a lease period since the last claim.
        await("four more ticks", () -> Mono.fromSupplier(() -> faulty.calls("extendMany") >= before + 5));
        finish.tryEmitEmpty();
        StepVerifier.create(outcomes.asFlux().take(6))
            .recordWith(java.util.ArrayList::new)
            .expectNextCount(6)
            .consumeRecordedWith(done -> assertThat(done).allSatisfy(o -> {
              assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED);
              assertThat(o.attempts()).isEqualTo(1);
            }))
            .expectComplete()
            .verify(T);
        assertThat(faulty.calls("extend")).as("single-lease extensions").isZero();
        // The call right after the count was read may have read what was held just before.
        List<Object> ticks = faulty.firstArguments("extendMany").subList(before + 1, before + 5);
        assertThat(ticks).allSatisfy(p -> assertThat(((StoreParams.ExtendMany) p).leases()).hasSize(6));
        assertThat(EngineProbe.leaseLosses(faulty.store())).as("leases reported lost").isZero();
      } finally {
        runs.forEach(reactor.core.Disposable::dispose);
      }
    }
  }

  @Test
  void aHandlersPlaceFreesWhenItsHandlerEndsNotWhenItsOutcomeIsWritten() {
    String q = newQueue();
    long first = producer(q).enqueue(payload(1)).block(T);
    long second = producer(q).enqueue(payload(2)).block(T);
    Sinks.Empty<Void> gate = Sinks.empty();
    // Every settle statement is held in flight: the second handler can only start while the first
    // message's outcome is still being written.
    try (FaultyStore faulty = FaultyStore.over(store).hold("archive", gate.asMono()).hold("settleMany", gate.asMono())) {
      List<Long> started = new java.util.concurrent.CopyOnWriteArrayList<>();
      AtomicInteger told = new AtomicInteger();
      Sinks.Many<Outcome> outcomes = Sinks.many().replay().all();
      var run = faulty.store().consumer(q).lease(Duration.ofSeconds(30)).concurrency(1).maxInFlight(2)
          .heartbeatInterval(Duration.ofMillis(100)).build()
          .handle(m -> Mono.fromRunnable(() -> started.add(m.id())))
          .subscribe(o -> {
            told.incrementAndGet();
            outcomes.emitNext(o, Sinks.EmitFailureHandler.busyLooping(T));
          });
      try {
        await("both handlers ran", () -> Mono.fromSupplier(() -> started.size() == 2));
        assertThat(started).containsExactly(first, second);
        assertThat(told.get()).as("no outcome is told before the store recorded it").isZero();
        gate.tryEmitEmpty();
        StepVerifier.create(outcomes.asFlux().take(2))
            .recordWith(java.util.ArrayList::new)
            .expectNextCount(2)
            .consumeRecordedWith(done -> {
              assertThat(done).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
              assertThat(done).extracting(Outcome::messageId).containsExactlyInAnyOrder(first, second);
            })
            .expectComplete()
            .verify(T);
      } finally {
        gate.tryEmitEmpty();
        run.dispose();
      }
    }
  }

  /** Handles the queue's {@code count} messages with two handlers at a time: each archived once. */
  private void drainsEachMessageOnce(FaultyStore faulty, String q, int count) {
    // A fixed prefetch: the automatic one would grow to take the whole queue in a few claims.
    List<Outcome> outcomes = faulty.store().consumer(q).lease(Duration.ofSeconds(30)).concurrency(2).prefetch(2)
        .heartbeatInterval(Duration.ofMillis(100)).build()
        .handle(m -> Mono.empty())
        .take(count)
        .collectList()
        .block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    assertThat(outcomes).extracting(Outcome::messageId).doesNotHaveDuplicates();
    assertThat(metrics(q).archived()).isEqualTo(count);
  }

  @Test
  void aHandlerRunSendsItsFinishedSettlesWithItsNextClaimWhenTheStoreDoesBothInOneRoundTrip() {
    String q = newQueue();
    enqueue(q, 40);
    try (FaultyStore faulty = FaultyStore.over(store).fusingSettles()) {
      drainsEachMessageOnce(faulty, q, 40);
      assertThat(metrics(q).live()).isZero();
      List<Long> carried = faulty.secondArguments("claimAndSettle").stream()
          .flatMap(p -> ((StoreParams.SettleMany) p).settles().stream())
          .map(StoreParams.Settle::messageId)
          .toList();
      if (driver().claimsAndSettlesInOneRoundTrip()) {
        // Each handler finishes while the backlog lasts: its settle goes with the claim that takes
        // its place, and only the last ones (nothing left to claim) go on their own.
        assertThat(carried).as("settles carried by claims").hasSizeGreaterThan(20).doesNotHaveDuplicates();
        assertThat(faulty.calls("claimAndSettle")).isPositive();
      } else {
        assertThat(faulty.calls("claimAndSettle")).as("claims with settles on a store that does them in turn")
            .isZero();
      }
    }
  }

  @Test
  void aStreamsAcksGoWithItsNextClaimWhenTheStoreDoesBothInOneRoundTrip() {
    String q = newQueue();
    enqueue(q, 30);
    try (FaultyStore faulty = FaultyStore.over(store).fusingSettles()) {
      List<Boolean> acked = faulty.store().consumer(q).lease(Duration.ofSeconds(30)).batchSize(5)
          .heartbeatInterval(Duration.ofMillis(100)).build()
          .deliveries()
          .flatMap(Delivery::ack, 10)
          .take(30)
          .collectList()
          .block(T);
      assertThat(acked).hasSize(30).containsOnly(true);
      assertThat(metrics(q).archived()).isEqualTo(30);
      assertThat(metrics(q).live()).isZero();
      assertThat(faulty.calls("claimAndSettle") > 0).as("acks carried by claims")
          .isEqualTo(driver().claimsAndSettlesInOneRoundTrip());
    }
  }

  @Test
  void aClaimWithSettlesThatFailsLeavesTheSettlesToTheCompleterAndClaimingGoesOn() {
    String q = newQueue();
    enqueue(q, 20);
    Supplier<Throwable> refused = () -> new io.pgqrs.StoreOperationException("claim", "refused by the test", null);
    try (FaultyStore faulty = FaultyStore.over(store).fusingSettles()
        .fail("claimAndSettle", Integer.MAX_VALUE, refused)) {
      drainsEachMessageOnce(faulty, q, 20);
      if (driver().claimsAndSettlesInOneRoundTrip()) {
        assertThat(faulty.calls("claimAndSettle")).as("claims with settles tried").isPositive();
        assertThat(faulty.calls("archive") + faulty.calls("settleMany")).as("settles written by the completer")
            .isPositive();
      }
    }
  }

  @Test
  void aSettleWithNoClaimToFollowIsWrittenAtOnce() {
    String q = newQueue();
    // Due in a moment: the consumer's idle timer claims it then (no wake-up needed, so this holds
    // behind a transaction pooler too), and nothing is left to claim after it.
    long id = producer(q).enqueueDelayed(payload(1), Duration.ofMillis(300)).block(T);
    try (FaultyStore faulty = FaultyStore.over(store).fusingSettles()) {
      // Polling never comes in time: only a settle written at once lets the outcome be told.
      StepVerifier.create(faulty.store().consumer(q).lease(Duration.ofSeconds(30)).pollInterval(NEVER_POLL)
              .concurrency(2).heartbeatInterval(Duration.ofMillis(100)).build()
              .handle(m -> Mono.empty())
              .take(1))
          .assertNext(archives(id))
          .expectComplete()
          .verify(T);
      assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.ARCHIVED);
    }
  }

  @Test
  void settlesOfEverySubscriptionOfAStoreShareStatements() {
    String q = newQueue();
    enqueue(q, 6);
    Sinks.Empty<Void> gate = Sinks.empty();
    // The first settle's statement is held in flight: every other settle, of either subscription,
    // waits for the next statement, and there is only one writer of settles for the engine.
    try (FaultyStore faulty = FaultyStore.over(store).hold("archive", gate.asMono()).hold("settleMany", gate.asMono())) {
      Sinks.Empty<Void> finish = Sinks.empty();
      AtomicInteger running = new AtomicInteger();
      AtomicInteger finished = new AtomicInteger();
      Set<Long> first = ConcurrentHashMap.newKeySet();
      Set<Long> second = ConcurrentHashMap.newKeySet();
      Consumer consumer = faulty.store().consumer(q).lease(Duration.ofSeconds(30)).batchSize(3).maxInFlight(3)
          .concurrency(3).heartbeatInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofSeconds(5)).build();
      Sinks.Many<Outcome> outcomes = Sinks.many().replay().all();
      List<reactor.core.Disposable> runs = List.of(
          consumer.handle(m -> finish.asMono().doOnSubscribe(s -> {
                first.add(m.id());
                running.incrementAndGet();
              }).doFinally(f -> finished.incrementAndGet()))
              .subscribe(o -> outcomes.emitNext(o, Sinks.EmitFailureHandler.busyLooping(T))),
          consumer.handle(m -> finish.asMono().doOnSubscribe(s -> {
                second.add(m.id());
                running.incrementAndGet();
              }).doFinally(f -> finished.incrementAndGet()))
              .subscribe(o -> outcomes.emitNext(o, Sinks.EmitFailureHandler.busyLooping(T))));
      try {
        await("six handlers running", () -> Mono.fromSupplier(() -> running.get() == 6));
        assertThat(first).hasSize(3);
        assertThat(second).hasSize(3);
        finish.tryEmitEmpty();
        // A handler's end is told after its outcome was handed on: its settle is queued by then.
        await("six handlers finished", () -> Mono.fromSupplier(() -> finished.get() == 6));
        gate.tryEmitEmpty();
        StepVerifier.create(outcomes.asFlux().take(6))
            .recordWith(java.util.ArrayList::new)
            .expectNextCount(6)
            .consumeRecordedWith(done -> assertThat(done).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED))
            .expectComplete()
            .verify(T);
        assertThat(faulty.calls("archive") + faulty.calls("settleMany")).as("settle statements for six messages "
            + "of two subscriptions").isEqualTo(2);
        Set<Long> batched = new HashSet<>();
        for (Object p : faulty.firstArguments("settleMany")) {
          ((StoreParams.SettleMany) p).settles().forEach(settle -> {
            assertThat(settle.kind()).isEqualTo(StoreParams.SettleKind.ARCHIVE);
            batched.add(settle.messageId());
          });
        }
        assertThat(batched).as("messages settled in one shared statement").hasSizeGreaterThanOrEqualTo(5);
        assertThat(batched).containsAnyElementsOf(first).containsAnyElementsOf(second);
        assertThat(metrics(q).archived()).isEqualTo(6);
      } finally {
        gate.tryEmitEmpty();
        runs.forEach(reactor.core.Disposable::dispose);
      }
    }
  }

  @Test
  void anOutcomeAfterTheLeaseWasLostIsDiscarded() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Outcome outcome = consumer(q).lease(Duration.ofMinutes(5)).build()
        .handle(m -> driver()
            // Another claimer takes the message as if our lease had run out.
            .claim(new StoreParams.Claim(q, 1, Duration.ofMinutes(5), null, m.visibleAt().plusSeconds(1))))
        .blockFirst(T);
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.LEASE_LOST);
    Message m = store.messages().get(id).block(T);
    assertThat(m.state()).isEqualTo(MessageState.LIVE);
    assertThat(m.attempts()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- workers and shutdown

  @Test
  void eachSubscriptionIsAWorkerThatStopsWhenItEnds() {
    String q = newQueue();
    enqueue(q, 2);
    consumer(q).build().handle(m -> Mono.empty()).take(2).blockLast(T);
    await("the worker stopped", () -> allWorkersStopped(q));
    assertThat(workers(q)).hasSize(1);
  }

  @Test
  void suspendingTheWorkerPausesClaiming() {
    String q = newQueue();
    Sinks.Many<Outcome> seen = Sinks.many().replay().all();
    var run = consumer(q).pollInterval(Duration.ofMillis(50)).build().handle(m -> Mono.empty())
        .subscribe(seen::tryEmitNext);
    try {
      await("the worker registered", () -> workerCount(q).map(n -> n == 1));
      long id = workers(q).get(0).id();
      store.workers().suspend(id).block(T);
      Instant suspendedAt = Instant.now();
      // Two heartbeats after the suspension the consumer has seen it.
      await("the consumer saw the suspension", () -> store.workers().get(id)
          .map(w -> w.heartbeatAt().isAfter(suspendedAt.plusMillis(150))));
      long msg = producer(q).enqueue(payload(1)).block(T);
      Instant enqueued = Instant.now();
      await("two more heartbeats", () -> store.workers().get(id)
          .map(w -> w.heartbeatAt().isAfter(enqueued.plusMillis(150))));
      assertThat(store.messages().get(msg).block(T).attempts()).isZero();
      store.workers().resume(id).block(T);
      StepVerifier.create(seen.asFlux()).assertNext(o -> assertThat(o.messageId()).isEqualTo(msg)).thenCancel().verify(T);
    } finally {
      run.dispose();
    }
  }

  @Test
  void aStopSignalLetsHandlersFinishThenCompletes() {
    String q = newQueue();
    enqueue(q, 3);
    AtomicInteger started = new AtomicInteger();
    Sinks.Empty<Void> stop = Sinks.empty();
    StepVerifier.create(consumer(q).concurrency(3).shutdownTimeout(Duration.ofSeconds(20)).build()
            .handle(m -> Mono.delay(Duration.ofMillis(300)).doOnSubscribe(s -> {
              if (started.incrementAndGet() == 3) {
                stop.tryEmitEmpty();
              }
            }), stop.asMono()))
        .recordWith(java.util.ArrayList::new)
        .expectNextCount(3)
        .consumeRecordedWith(outcomes -> assertThat(outcomes).extracting(Outcome::kind)
            .containsOnly(Outcome.Kind.ARCHIVED))
        .expectComplete()
        .verify(T);
    assertThat(metrics(q).archived()).isEqualTo(3);
    assertThat(workers(q)).extracting(WorkerInfo::status).containsExactly(WorkerStatus.STOPPED);
  }

  /**
   * Several handler runs sharing one stop signal, stopped the moment the backlog is archived (as a
   * drain ends): each completes once its handlers are done, none waits for its shutdown timeout.
   */
  @Test
  void handlerRunsStoppedTogetherWhenTheBacklogIsDoneCompleteWithoutWaitingForTheirTimeout() {
    String q = newQueue();
    int total = 300;
    enqueue(q, total);
    AtomicInteger archived = new AtomicInteger();
    Sinks.Empty<Void> stop = Sinks.empty();
    List<Mono<Long>> runs = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      runs.add(consumer(q).batchSize(1).concurrency(2).shutdownTimeout(Duration.ofHours(1)).build()
          .handle(m -> Mono.empty(), stop.asMono())
          .doOnNext(o -> {
            if (o.kind() == Outcome.Kind.ARCHIVED && archived.incrementAndGet() == total) {
              stop.tryEmitEmpty();
            }
          })
          .count());
    }
    StepVerifier.create(Flux.merge(runs).collectList())
        .assertNext(counts -> assertThat(counts.stream().mapToLong(Long::longValue).sum()).isGreaterThanOrEqualTo(total))
        .expectComplete()
        .verify(T);
    assertThat(metrics(q).archived()).isEqualTo(total);
    assertThat(metrics(q).leased()).isZero();
  }

  /**
   * A handler run stopped while idle ends at once, inside the stop request: its shutdown deadline
   * must not be left armed, or it fires after the end with a warning about handlers that are long
   * done.
   */
  @Test
  void aHandlerRunStoppedWhileIdleLeavesNoShutdownDeadlineArmed() {
    String q = newQueue();
    Duration timeout = Duration.ofSeconds(4321);
    Duration poll = Duration.ofMillis(3333);
    DelayRecordingScheduler timers = new DelayRecordingScheduler(Schedulers.parallel());
    try (FaultyStore own = FaultyStore.over(store, c -> c.toBuilder().scheduler(timers).build())) {
      Sinks.Empty<Void> stop = Sinks.empty();
      StepVerifier.create(own.store().consumer(q).pollInterval(poll).shutdownTimeout(timeout).build()
              .handle(m -> Mono.empty(), stop.asMono()))
          // Idle: its empty claim answered, it waits for its next poll (jittered by up to a fifth).
          .then(() -> await("the consumer is idle", () -> Mono.fromSupplier(
              () -> timers.armed(poll.multipliedBy(3).dividedBy(4), poll.multipliedBy(5).dividedBy(4)) > 0)))
          .then(stop::tryEmitEmpty)
          .expectComplete()
          .verify(T);
      assertThat(timers.armed(timeout)).as("shutdown deadlines still armed").isZero();
    }
  }

  @Test
  void handlersStillRunningAtTheShutdownDeadlineAreReleased() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Sinks.Empty<Void> stop = Sinks.empty();
    StepVerifier.create(consumer(q).shutdownTimeout(Duration.ofMillis(200)).build()
            .handle(m -> Mono.never().doOnSubscribe(s -> stop.tryEmitEmpty()), stop.asMono()))
        .assertNext(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.RELEASED_ON_SHUTDOWN))
        .expectComplete()
        .verify(T);
    Message m = store.messages().get(id).block(T);
    assertThat(m.leaseToken()).isNull();
    assertThat(m.state()).isEqualTo(MessageState.LIVE);
    assertThat(workers(q)).extracting(WorkerInfo::status).containsExactly(WorkerStatus.STOPPED);
  }

  @Test
  void cancellingDeliveriesReleasesWhatWasNotSettled() {
    String q = newQueue();
    enqueue(q, 3);
    StepVerifier.create(consumer(q).shutdownTimeout(Duration.ofMillis(100)).build().deliveries())
        .expectNextCount(3)
        .thenCancel()
        .verify(T);
    await("leases released and the worker stopped", () -> store.queues().metrics(q)
        .zipWith(allWorkersStopped(q), (m, stopped) -> m.leased() == 0 && stopped));
    assertThat(metrics(q).pending()).isEqualTo(3);
  }

  @Test
  void stoppingTheWorkerFromOutsideEndsTheStreamWhenAskedTo() {
    String q = newQueue();
    Flux<Delivery> deliveries = consumer(q).endWhenWorkerStopped(true).build().deliveries();
    StepVerifier.create(deliveries)
        .then(() -> {
          await("the worker registered", () -> workerCount(q).map(n -> n == 1));
          store.workers().shutdown(workers(q).get(0).id(), true).block(T);
        })
        .expectComplete()
        .verify(T);
  }

  @Test
  void aConsumerWhoseWorkerWasStoppedFromOutsideGoesOnAsANewWorker() {
    String q = newQueue();
    Sinks.Many<Outcome> seen = Sinks.many().replay().all();
    var run = consumer(q).pollInterval(Duration.ofMillis(50)).build().handle(m -> Mono.empty())
        .subscribe(seen::tryEmitNext);
    try {
      await("the worker registered", () -> workerCount(q).map(n -> n == 1));
      long first = workers(q).get(0).id();
      store.workers().shutdown(first, true).block(T);
      await("a new worker registered", () -> store.workers().list(q)
          .filter(w -> w.status() == WorkerStatus.READY && w.id() != first).hasElements());
      long id = producer(q).enqueue(payload(1)).block(T);
      StepVerifier.create(seen.asFlux())
          .assertNext(archives(id))
          .thenCancel()
          .verify(T);
      assertThat(store.workers().get(first).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    } finally {
      run.dispose();
    }
  }

  // ---------------------------------------------------------------- store faults

  @Test
  void aTransientErrorWhileStartingIsRetriedAtThePollInterval() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    try (FaultyStore faulty = FaultyStore.over(store)
        .fail("registerWorker", 2, () -> new StoreUnavailableException("register worker", "reset by the test", null))) {
      StepVerifier.create(faulty.store().consumer(q).pollInterval(Duration.ofMillis(50)).build()
              .handle(m -> Mono.empty()).take(1))
          .assertNext(archives(id))
          .expectComplete()
          .verify(T);
      assertThat(faulty.calls("registerWorker")).isEqualTo(3);
    }
  }

  @Test
  void aSettleThatMeetsTransientErrorsIsRetriedWhileTheLeaseLasts() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    try (FaultyStore faulty = FaultyStore.over(store)
        .fail("archive", 5, () -> new StoreUnavailableException("archive", "reset by the test", null))) {
      StepVerifier.create(faulty.store().consumer(q).lease(Duration.ofSeconds(20)).build()
              .handle(m -> Mono.empty()).take(1))
          .assertNext(o -> {
            assertThat(o.messageId()).isEqualTo(id);
            assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED);
            assertThat(o.attempts()).isEqualTo(1);
          })
          .expectComplete()
          .verify(T);
      assertThat(faulty.calls("archive")).isEqualTo(6);
    }
  }

  @Test
  void anAckWhoseAnswerWasLostIsStillReportedAsArchived() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    try (FaultyStore faulty = FaultyStore.over(store)
        .loseAnswers("archive", 1, () -> new StoreUnavailableException("archive", "reset after the commit", null))) {
      StepVerifier.create(faulty.store().consumer(q).build().handle(m -> Mono.empty()).take(1))
          .assertNext(archives(id))
          .expectComplete()
          .verify(T);
      assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.ARCHIVED);
      assertThat(EngineProbe.leaseLosses(faulty.store())).isZero();
    }
  }

  @Test
  void anExtensionThatRacesAnAckIsNoLossOfTheLease() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Sinks.Empty<Void> gate = Sinks.empty();
    // The ack is held in flight while an extension runs and finds the lease gone, as it does when
    // the ack commits first.
    try (FaultyStore faulty = FaultyStore.over(store)
        .hold("archive", gate.asMono())
        .answer("extendMany", Mono.just(List.of()))) {
      StepVerifier.create(faulty.store().consumer(q).lease(Duration.ofSeconds(3)).build()
              .handle(m -> Mono.empty()).take(1))
          .then(() -> {
            await("an extension during the ack", () -> Mono.fromSupplier(() -> faulty.calls("extendMany") > 0));
            gate.tryEmitEmpty();
          })
          .assertNext(archives(id))
          .expectComplete()
          .verify(T);
      assertThat(EngineProbe.leaseLosses(faulty.store())).as("leases reported lost").isZero();
    }
  }

  @Test
  void aSharedSettleStatementAnswersEachDeliveryOnItsOwn() {
    String q = newQueue();
    enqueue(q, 4);
    Sinks.Empty<Void> gate = Sinks.empty();
    try (FaultyStore faulty = FaultyStore.over(store).hold("archive", gate.asMono())) {
      List<Delivery> got = faulty.store().consumer(q).lease(Duration.ofSeconds(30)).batchSize(4)
          .shutdownTimeout(Duration.ofSeconds(20)).build().deliveries().take(4).collectList().block(T);
      assertThat(got).hasSize(4);
      // Another claimer takes one message as if its lease had run out: that delivery's lease is gone.
      Instant later = got.stream().map(d -> d.message().visibleAt()).max(Instant::compareTo).orElseThrow()
          .plusSeconds(1);
      long stolenId = driver().claim(new StoreParams.Claim(q, 1, Duration.ofMinutes(5), null, later)).block(T)
          .claimed().get(0).id();
      Delivery stolen = got.stream().filter(d -> d.message().id() == stolenId).findFirst().orElseThrow();
      List<Delivery> held = got.stream().filter(d -> d != stolen).toList();
      // The first settle is written alone and held in flight; the next three share one statement.
      Mono<Boolean> lone = held.get(0).ack().cache();
      lone.subscribe();
      Mono<Boolean> acked = held.get(1).ack().cache();
      Mono<Boolean> buried = stolen.deadLetter("not ours any more").cache();
      Mono<Boolean> released = held.get(2).release(Duration.ofMinutes(1), "later").cache();
      acked.subscribe();
      buried.subscribe();
      released.subscribe();
      gate.tryEmitEmpty();
      assertThat(lone.block(T)).isTrue();
      assertThat(acked.block(T)).isTrue();
      assertThat(buried.block(T)).as("the settle of the lost lease").isFalse();
      assertThat(released.block(T)).isTrue();
      assertThat(faulty.calls("settleMany")).isEqualTo(1);
      assertThat(((StoreParams.SettleMany) faulty.firstArguments("settleMany").get(0)).settles())
          .extracting(StoreParams.Settle::messageId)
          .containsExactly(held.get(1).message().id(), stolenId, held.get(2).message().id());
      assertThat(stolen.leaseLost()).isTrue();
      assertThat(stolen.settled()).isFalse();
      assertThat(held).allSatisfy(d -> assertThat(d.settled()).isTrue());
      assertThat(store.messages().get(held.get(0).message().id()).block(T).state()).isEqualTo(MessageState.ARCHIVED);
      assertThat(store.messages().get(held.get(1).message().id()).block(T).state()).isEqualTo(MessageState.ARCHIVED);
      Message stolenNow = store.messages().get(stolenId).block(T);
      assertThat(stolenNow.state()).isEqualTo(MessageState.LIVE);
      assertThat(stolenNow.attempts()).isEqualTo(2);
      Message releasedNow = store.messages().get(held.get(2).message().id()).block(T);
      assertThat(releasedNow.state()).isEqualTo(MessageState.LIVE);
      assertThat(releasedNow.leaseToken()).isNull();
      assertThat(releasedNow.lastError()).isEqualTo("later");
      assertThat(releasedNow.visibleAt()).isAfter(Instant.now().plusSeconds(30));
    } finally {
      gate.tryEmitEmpty();
    }
  }

  @Test
  void aSettleThatCannotBeRecordedLetsTheMessageGoToBeDeliveredAgain() {
    String q = newQueue();
    long first = producer(q).enqueue(payload(1)).block(T);
    long second = producer(q).enqueue(payload(2)).block(T);
    Supplier<Throwable> refused = () -> new io.pgqrs.StoreOperationException("archive", "refused by the test", null);
    try (FaultyStore faulty = FaultyStore.over(store)
        .fail("archive", Integer.MAX_VALUE, refused)
        .fail("archiveMany", Integer.MAX_VALUE, refused)
        .fail("settleMany", Integer.MAX_VALUE, refused)) {
      Sinks.Many<Outcome> seen = Sinks.many().replay().all();
      // One message at a time: the second is only claimed once the first has freed its place.
      var run = faulty.store().consumer(q).lease(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(100))
          .heartbeatInterval(Duration.ofMillis(100)).batchSize(1).maxInFlight(1).concurrency(1).build()
          .handle(m -> Mono.empty())
          .subscribe(seen::tryEmitNext);
      try {
        StepVerifier.create(seen.asFlux().filter(o -> o.kind() == Outcome.Kind.NOT_RECORDED).map(Outcome::messageId)
                .distinct().take(2))
            .expectNextCount(2)
            .expectComplete()
            .verify(T);
        faulty.heal("archive").heal("archiveMany").heal("settleMany");
        // Let go, neither held nor extended: each comes back after its lease and is archived then.
        StepVerifier.create(seen.asFlux().filter(o -> o.kind() == Outcome.Kind.ARCHIVED).take(2))
            .recordWith(java.util.ArrayList::new)
            .expectNextCount(2)
            .consumeRecordedWith(archived -> {
              assertThat(archived).extracting(Outcome::messageId).containsExactlyInAnyOrder(first, second);
              assertThat(archived).allSatisfy(o -> assertThat(o.attempts()).isGreaterThanOrEqualTo(2));
            })
            .expectComplete()
            .verify(T);
      } finally {
        run.dispose();
      }
    }
  }

  /** A second store on the database under test, without background maintenance. */
  private Store openAnotherStore() {
    return Pgqrs.connect(PgqrsConfig.builder(store.config().dsn()).maintenanceInterval(Duration.ZERO).build())
        .block(T);
  }

  @Test
  void closingTheStoreWhileAConsumerRegistersStopsItsWorker() {
    String q = newQueue();
    Store other = openAnotherStore();
    try {
      // Subscribed and closed in one call chain: close() begins while the worker's registration
      // is still in flight, and must wait for it to stop the worker.
      StepVerifier.create(other.consumer(q).heartbeatInterval(Duration.ofMillis(100)).build()
              .handle(m -> Mono.empty()))
          .then(() -> other.close().block(T))
          .expectComplete()
          .verify(T);
    } finally {
      other.close().block(T);
    }
    assertThat(workers(q)).hasSizeLessThanOrEqualTo(1)
        .allSatisfy(w -> assertThat(w.status()).isEqualTo(WorkerStatus.STOPPED));
  }

  @Test
  void aConsumerSubscribedWhileTheStoreClosesNeverRegisters() {
    String q = newQueue();
    Store other = openAnotherStore();
    try {
      Mono<Void> closed = other.close().cache();
      closed.subscribe(); // close() has begun
      StepVerifier.create(other.consumer(q).build().deliveries())
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(StoreUnavailableException.class)
              .hasMessageContaining(q))
          .verify(T);
      closed.block(T);
      StepVerifier.create(other.consumer(q).build().handle(m -> Mono.empty()))
          .as("after close() completed too")
          .expectError(StoreUnavailableException.class)
          .verify(T);
    } finally {
      other.close().block(T);
    }
    assertThat(workers(q)).isEmpty();
  }

  @Test
  void atMostConcurrencyHandlersRunAtOnce() {
    String q = newQueue();
    int concurrency = 3;
    int total = 8;
    enqueue(q, total);
    Sinks.Empty<Void> release = Sinks.empty();
    Sinks.Many<Long> started = Sinks.many().replay().all();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    // A batch larger than the bound, and nothing claimed ahead: only the handler concurrency keeps
    // the other messages unclaimed.
    Flux<Outcome> outcomes = consumer(q).batchSize(10).concurrency(concurrency).prefetch(0).build()
        .handle(m -> Mono.defer(() -> {
          peak.accumulateAndGet(running.incrementAndGet(), Math::max);
          synchronized (started) {
            started.tryEmitNext(m.id());
          }
          return release.asMono();
        }).doOnTerminate(running::decrementAndGet));
    StepVerifier.create(outcomes.take(total))
        .then(() -> StepVerifier.create(started.asFlux()).expectNextCount(concurrency).thenCancel().verify(T))
        .then(() -> {
          assertThat(running).as("handlers running while blocked").hasValue(concurrency);
          assertThat(peak).as("handlers ever running at once").hasValue(concurrency);
          assertThat(metrics(q).leased()).as("claimed: only what the running handlers hold").isEqualTo(concurrency);
          assertThat(metrics(q).pending()).isEqualTo(total - concurrency);
        })
        .then(release::tryEmitEmpty)
        .recordWith(java.util.ArrayList::new)
        .expectNextCount(total)
        .consumeRecordedWith(done -> {
          assertThat(done).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
          assertThat(done).extracting(Outcome::messageId).doesNotHaveDuplicates();
        })
        .expectComplete()
        .verify(T);
    assertThat(peak).as("never more than the bound, also once released").hasValue(concurrency);
    assertThat(running).hasValue(0);
    assertThat(metrics(q).archived()).isEqualTo(total);
  }

  @Test
  void manyConsumersHandleEveryMessageExactlyOnce() {
    String q = newQueue();
    int total = messagesForConcurrency();
    enqueue(q, total);
    Set<Long> handled = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    Consumer consumer = consumer(q).concurrency(8).batchSize(25).build();
    Sinks.Empty<Void> stop = Sinks.empty();
    AtomicInteger done = new AtomicInteger();
    List<Outcome> outcomes = Flux.range(0, 3)
        .flatMap(i -> consumer.handle(m -> Mono.fromRunnable(() -> {
          if (!handled.add(m.id())) {
            duplicates.incrementAndGet();
          }
        }), stop.asMono()).doOnNext(o -> {
          if (done.incrementAndGet() == total) {
            stop.tryEmitEmpty();
          }
        }))
        .collectList()
        .block(T.multipliedBy(2));
    assertThat(duplicates).hasValue(0);
    assertThat(handled).hasSize(total);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    assertThat(new HashSet<>(outcomes.stream().map(Outcome::messageId).toList())).hasSize(total);
  }

  /** Messages of the many-consumers test; smaller where the backend is slow. */
  protected int messagesForConcurrency() {
    return 600;
  }
}
