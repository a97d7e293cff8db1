package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.admin.SystemMetrics;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageNotFoundException;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotEmptyException;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.queue.QueueOptions;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Queues, enqueue (single, batch, delayed, dedup, priority), claims and metrics. */
public abstract class QueueContract extends StoreContract {

  @Test
  void claimableCountsOnlyWhatAClaimCouldTakeNow() {
    String q = newQueue();
    List<Long> ids = producer(q).enqueuePayloads(IntStream.range(0, 6).mapToObj(StoreContract::payload).toList())
        .block(T);
    producer(q).enqueueDelayed(payload(7), Duration.ofHours(1)).block(T);
    StepVerifier.create(store.queues().claimable(q)).expectNext(6L).expectComplete().verify(T);
    List<Message> claimed = claim(q, 3);
    store.messages().archive(claimed.get(0).lease()).block(T);
    store.messages().deadLetter(claimed.get(1).lease(), "for the test").block(T);
    // Three untouched messages left; one leased, one archived, one dead and one delayed do not count.
    StepVerifier.create(store.queues().claimable(q)).expectNext(3L).expectComplete().verify(T);
    assertThat(ids).hasSize(6);
    StepVerifier.create(store.queues().claimable(newQueue())).expectNext(0L).expectComplete().verify(T);
    StepVerifier.create(store.queues().claimable("no_such_queue_" + System.nanoTime()))
        .expectError(QueueNotFoundException.class)
        .verify(T);
  }

  @Test
  void throughputCountsArchivedMessagesPerIntervalOfTheWindowAndRefusesBadBounds() {
    String q = newQueue();
    producer(q).enqueuePayloads(IntStream.range(0, 4).mapToObj(StoreContract::payload).toList()).block(T);
    List<Message> claimed = claim(q, 4);
    for (Message m : claimed.subList(0, 3)) {
      store.messages().archive(m.lease()).block(T);
    }
    store.messages().deadLetter(claimed.get(3).lease(), "not archived").block(T);
    String quiet = newQueue();

    List<io.pgqrs.queue.ThroughputBucket> hour = store.queues().throughput(q, Duration.ofHours(1), Duration.ofMinutes(1))
        .block(T);
    assertThat(hour).hasSize(60);
    assertThat(hour.stream().mapToLong(io.pgqrs.queue.ThroughputBucket::archived).sum()).isEqualTo(3);
    for (int i = 0; i < hour.size(); i++) {
      assertThat(Duration.between(hour.get(i).start(), hour.get(i).end())).isEqualTo(Duration.ofMinutes(1));
      if (i > 0) {
        assertThat(hour.get(i).start()).isEqualTo(hour.get(i - 1).end());
      }
    }
    assertThat(store.queues().throughput(quiet, Duration.ofHours(24), Duration.ofHours(1)).block(T))
        .hasSize(24).allSatisfy(b -> assertThat(b.archived()).isZero());

    for (Duration[] bad : new Duration[][] {
        {Duration.ofHours(25), Duration.ofMinutes(1), null}, {Duration.ZERO, Duration.ofMinutes(1), null},
        {Duration.ofHours(1), Duration.ofSeconds(59), null}, {Duration.ofSeconds(90), Duration.ofMinutes(1), null},
        {Duration.ofMinutes(1), Duration.ofMinutes(2), null}}) {
      String argument = bad[0].compareTo(Duration.ofHours(24)) > 0 || bad[0].isZero() ? "window" : "bucket";
      StepVerifier.create(store.queues().throughput(q, bad[0], bad[1]))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class)
              .satisfies(x -> assertThat(((InvalidArgumentException) x).argument()).as("%s / %s", bad[0], bad[1])
                  .isEqualTo(argument)))
          .verify(T);
    }
    StepVerifier.create(store.queues().throughput("no_such_queue_" + System.nanoTime(), Duration.ofHours(1),
        Duration.ofMinutes(1))).expectError(QueueNotFoundException.class).verify(T);
  }

  @Test
  void createdQueueCanBeReadAndListed() {
    String name = newQueue(7);
    StepVerifier.create(store.queues().get(name))
        .assertNext(q -> {
          assertThat(q.name()).isEqualTo(name);
          assertThat(q.maxAttempts()).isEqualTo(7);
        })
        .expectComplete()
        .verify(T);
    List<String> names = store.queues().list().map(QueueInfo::name).collectList().block(T);
    assertThat(names).contains(name).isSorted();
  }

  @Test
  void aQueueCreatedWithOptionsShowsThemAndConfigureChangesThem() {
    String name = newQueue();
    store.queues().delete(name).block(T);
    QueueInfo created = store.queues().create(name, QueueOptions.builder().maxLeased(4).build()).block(T);
    assertThat(created.maxLeased()).isEqualTo(4);
    String plain = newQueue();
    store.queues().delete(plain).block(T);
    assertThat(created.maxAttempts()).as("the engine's default")
        .isEqualTo(store.queues().create(plain).block(T).maxAttempts());
    assertThat(store.queues().get(name).block(T)).isEqualTo(created);
    assertThat(store.queues().list().filter(q -> q.name().equals(name)).single().block(T)).isEqualTo(created);

    QueueInfo changed = store.queues().configure(name, QueueOptions.builder().maxAttempts(3).maxLeased(9).build())
        .block(T);
    assertThat(changed.options()).isEqualTo(new QueueOptions(3, 9));
    QueueInfo rated = store.queues().configure(name, QueueOptions.builder().maxClaimsPerSecond(50).build()).block(T);
    assertThat(rated.options()).isEqualTo(new QueueOptions(3, null, 50));
    QueueInfo unlimited = store.queues().configure(name, QueueOptions.defaults()).block(T);
    assertThat(unlimited.maxLeased()).isNull();
    assertThat(unlimited.maxAttempts()).as("kept when unset").isEqualTo(3);
    StepVerifier.create(store.queues().configure("no_such_queue", QueueOptions.defaults()))
        .expectError(QueueNotFoundException.class).verify(T);
  }

  @Test
  void queueOptionsOutOfRangeFailWithInvalidArgument() {
    assertThatThrownBy(() -> QueueOptions.builder().maxLeased(0)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("maxLeased");
    assertThatThrownBy(() -> QueueOptions.builder().maxAttempts(0)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> QueueOptions.builder().maxClaimsPerSecond(-1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("maxClaimsPerSecond");
    assertThatThrownBy(() -> new QueueOptions(null, QueueOptions.MAX_LEASED_LIMIT + 1))
        .isInstanceOf(InvalidArgumentException.class);
    StepVerifier.create(store.queues().create("bad name!", QueueOptions.defaults()))
        .expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.queues().configure(newQueue(), null)).expectError(InvalidArgumentException.class)
        .verify(T);
  }

  @Test
  void creatingAnExistingQueueFailsWithQueueAlreadyExists() {
    String name = newQueue();
    StepVerifier.create(store.queues().create(name))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(QueueAlreadyExistsException.class)
            .extracting(x -> ((QueueAlreadyExistsException) x).queue()).isEqualTo(name))
        .verify(T);
  }

  @Test
  void unknownQueueFailsWithQueueNotFoundEverywhere() {
    String missing = "no_such_queue";
    StepVerifier.create(store.queues().get(missing)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.queues().purge(missing)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.queues().delete(missing)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.queues().metrics(missing)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(producer(missing).enqueue(payload(1))).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(producer(missing).enqueuePayloads(List.of(payload(1), payload(2))))
        .expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.messages().claim(missing, 1)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.deadLetters().list(missing, 0, 10)).expectError(QueueNotFoundException.class)
        .verify(T);
    StepVerifier.create(store.deadLetters().replayAll(missing)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.archive().list(missing, 0, 10)).expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.archive().purgeOlderThan(missing, Duration.ZERO))
        .expectError(QueueNotFoundException.class).verify(T);
    StepVerifier.create(store.workers().register("w-" + System.nanoTime(), missing))
        .expectError(QueueNotFoundException.class).verify(T);
  }

  @Test
  void purgeDeletesLiveMessagesAndKeepsArchive() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    Message m = claim(q, 1).get(0);
    store.messages().archive(m.lease()).block(T);
    StepVerifier.create(store.queues().purge(q)).expectNext(2L).expectComplete().verify(T);
    QueueMetrics metrics = store.queues().metrics(q).block(T);
    assertThat(metrics.live()).isZero();
    assertThat(metrics.archived()).isEqualTo(1);
  }

  @Test
  void deletingAQueueWithLiveMessagesIsRefusedUnlessForced() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    StepVerifier.create(store.queues().delete(q))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(QueueNotEmptyException.class).hasMessageContaining("1 live message");
          assertThat(((QueueNotEmptyException) e).liveMessages()).isEqualTo(1);
        })
        .verify(T);
    assertThat(store.queues().get(q).block(T)).isNotNull();
    StepVerifier.create(store.queues().delete(q, true)).expectComplete().verify(T);
    StepVerifier.create(store.queues().get(q)).expectError(QueueNotFoundException.class).verify(T);
  }

  @Test
  void deletingAQueueWithRegisteredWorkersIsRefusedUnlessForced() {
    String q = newQueue();
    WorkerInfo w = store.workers().register("worker-of-" + q, q).block(T);
    StepVerifier.create(store.queues().delete(q))
        .expectErrorSatisfies(e -> assertThat(((QueueNotEmptyException) e).activeWorkers()).isEqualTo(1))
        .verify(T);
    store.workers().shutdown(w.id(), false).block(T);
    StepVerifier.create(store.queues().delete(q)).expectComplete().verify(T);
  }

  @Test
  void emptyQueueIsDeletedWithItsArchive() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    store.messages().archive(m.lease()).block(T);
    StepVerifier.create(store.queues().delete(q)).expectComplete().verify(T);
    StepVerifier.create(store.messages().get(m.id())).expectError(io.pgqrs.queue.MessageNotFoundException.class).verify(T);
  }

  @Test
  void enqueuedMessageIsClaimedWithItsPayload() {
    String q = newQueue();
    long id = producer(q).enqueue(mapPayload(42)).block(T);
    StepVerifier.create(store.messages().claim(q, 10))
        .assertNext(list -> {
          assertThat(list).hasSize(1);
          Message m = list.get(0);
          assertThat(m.id()).isEqualTo(id);
          assertThat(m.queue()).isEqualTo(q);
          assertThat(m.payload().get("n").asInt()).isEqualTo(42);
          assertThat(m.attempts()).isEqualTo(1);
          assertThat(m.state()).isEqualTo(MessageState.LIVE);
          assertThat(m.leaseToken()).isNotNull();
          assertThat(m.visibleAt()).isAfter(m.enqueuedAt());
        })
        .expectComplete()
        .verify(T);
    assertThat(claim(q, 10)).as("a leased message is not claimed again").isEmpty();
  }

  @Test
  void batchReturnsIdsInInputOrderAndClaimsInThatOrder() {
    String q = newQueue();
    List<Long> ids = producer(q).enqueuePayloads(IntStream.range(0, 50).mapToObj(QueueContract::payload).toList())
        .block(T);
    assertThat(ids).hasSize(50).isSorted().doesNotHaveDuplicates();
    List<Message> claimed = claim(q, 50);
    assertThat(claimed).extracting(Message::id).containsExactlyElementsOf(ids);
    assertThat(claimed).extracting(m -> m.payload().get("n").asInt())
        .containsExactlyElementsOf(IntStream.range(0, 50).boxed().toList());
  }

  @Test
  void claimTakesNoMoreThanTheLimit() {
    String q = newQueue();
    producer(q).enqueuePayloads(IntStream.range(0, 10).mapToObj(QueueContract::payload).toList()).block(T);
    assertThat(claim(q, 3)).hasSize(3);
    assertThat(claim(q, 100)).hasSize(7);
    assertThat(claim(q, 100)).isEmpty();
  }

  @Test
  void delayedMessageIsNotClaimableUntilDue() {
    String q = newQueue();
    long id = producer(q).enqueueDelayed(payload(1), Duration.ofHours(1)).block(T);
    assertThat(claim(q, 10)).isEmpty();
    QueueMetrics metrics = store.queues().metrics(q).block(T);
    assertThat(metrics.delayed()).isEqualTo(1);
    assertThat(metrics.pending()).isZero();
    StoreResults.Claimed later = driver().claim(new StoreParams.Claim(q, 10, Duration.ofSeconds(30), null,
        Instant.now().plus(Duration.ofHours(2)))).block(T);
    assertThat(later.claimed()).extracting(Message::id).containsExactly(id);
  }

  @Test
  void messageScheduledAtAnInstantBecomesClaimableThen() {
    String q = newQueue();
    Instant at = Instant.now().plus(Duration.ofDays(1));
    long id = producer(q).enqueueAt(payload(1), at).block(T);
    Message stored = store.messages().get(id).block(T);
    assertThat(Duration.between(at, stored.visibleAt()).abs()).isLessThan(Duration.ofMillis(1));
    assertThat(claim(q, 10)).isEmpty();
    long past = producer(q).enqueueAt(payload(2), Instant.now().minus(Duration.ofDays(1))).block(T);
    assertThat(claim(q, 10)).extracting(Message::id).containsExactly(past);
  }

  @Test
  void duplicateDedupKeyReturnsTheLiveMessageAndInsertsNothing() {
    String q = newQueue();
    long first = producer(q).enqueue(NewMessage.of(payload(1)).withDedupKey("order-7")).block(T);
    long second = producer(q).enqueue(NewMessage.of(payload(2)).withDedupKey("order-7")).block(T);
    assertThat(second).isEqualTo(first);
    assertThat(store.queues().metrics(q).block(T).live()).isEqualTo(1);
    List<Long> batch = producer(q).enqueueBatch(List.of(
        NewMessage.of(payload(3)).withDedupKey("order-7"),
        NewMessage.of(payload(4)).withDedupKey("order-8"),
        NewMessage.of(payload(5)).withDedupKey("order-8"),
        NewMessage.of(payload(6)))).block(T);
    assertThat(batch.get(0)).isEqualTo(first);
    assertThat(batch.get(1)).isEqualTo(batch.get(2)).isNotEqualTo(first);
    assertThat(batch.get(3)).isNotIn(first, batch.get(1));
    assertThat(store.queues().metrics(q).block(T).live()).isEqualTo(3);
  }

  @Test
  void dedupKeyIsFreeAgainOnceTheMessageIsArchived() {
    String q = newQueue();
    long first = producer(q).enqueue(NewMessage.of(payload(1)).withDedupKey("k")).block(T);
    Message m = claim(q, 1).get(0);
    assertThat(store.messages().archive(m.lease()).block(T)).isTrue();
    long second = producer(q).enqueue(NewMessage.of(payload(2)).withDedupKey("k")).block(T);
    assertThat(second).isNotEqualTo(first);
  }

  @Test
  void dedupKeysAreScopedToTheirQueue() {
    String a = newQueue();
    String b = newQueue();
    long inA = producer(a).enqueue(NewMessage.of(payload(1)).withDedupKey("same")).block(T);
    long inB = producer(b).enqueue(NewMessage.of(payload(1)).withDedupKey("same")).block(T);
    assertThat(inB).isNotEqualTo(inA);
  }

  @Test
  void higherPriorityIsClaimedFirst() {
    String q = newQueue();
    long low = producer(q).enqueue(NewMessage.of(payload(1)).withPriority(-5)).block(T);
    long normal = producer(q).enqueue(payload(2)).block(T);
    long high = producer(q).enqueue(NewMessage.of(payload(3)).withPriority(10)).block(T);
    assertThat(claim(q, 1)).extracting(Message::id).containsExactly(high);
    assertThat(claim(q, 2)).extracting(Message::id).containsExactly(normal, low);
  }

  @Test
  void invalidArgumentsAreRefusedBeforeTouchingTheStore() {
    String q = newQueue();
    StepVerifier.create(store.messages().claim(q, 0)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.messages().claim(q, -3)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.messages().claim(q, 1, Duration.ZERO, null))
        .expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.messages().claim(q, 1, Duration.ofSeconds(-1), null))
        .expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(producer(q).enqueueDelayed(payload(1), Duration.ofSeconds(-1)))
        .expectErrorSatisfies(e -> assertThat(((InvalidArgumentException) e).argument()).isEqualTo("delay"))
        .verify(T);
    StepVerifier.create(producer(q).enqueueBatch(List.of())).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(producer(q).enqueue(NewMessage.of(payload(1)).withDedupKey("")))
        .expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.queues().create(q + "x", 0)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.deadLetters().list(q, 0, 0)).expectError(InvalidArgumentException.class).verify(T);
    StepVerifier.create(store.archive().purgeOlderThan(q, Duration.ofSeconds(-1)))
        .expectError(InvalidArgumentException.class).verify(T);
    assertThat(store.queues().metrics(q).block(T).live()).isZero();
  }

  @Test
  void hostileQueueNamesAreRefusedAndCreateNothing() {
    long before = store.queues().list().count().block(T);
    for (String name : List.of("", "a\"b", "x'; drop table pgqrs_queues; --", "semi;colon", "sp ace",
        "a".repeat(64), "1starts_with_digit", "-dash", "ünïcode", "tab\tname")) {
      assertThatThrownBy(() -> store.queues().create(name).block(T))
          .as("queue name %s", name)
          .isInstanceOf(InvalidArgumentException.class)
          .satisfies(e -> assertThat(((InvalidArgumentException) e).argument()).isEqualTo("queue"));
      assertThatThrownBy(() -> store.producer(name)).isInstanceOf(InvalidArgumentException.class);
      StepVerifier.create(store.messages().claim(name, 1)).expectError(InvalidArgumentException.class).verify(T);
    }
    assertThat(store.queues().list().count().block(T)).isEqualTo(before);
    assertThat(store.queues().create("a".repeat(63)).block(T).name()).hasSize(63);
  }

  @Test
  void metricsCountEveryState() {
    String q = newQueue(1);
    producer(q).enqueuePayloads(IntStream.range(0, 6).mapToObj(QueueContract::payload).toList()).block(T);
    producer(q).enqueueDelayed(payload(99), Duration.ofHours(1)).block(T);
    List<Message> claimed = claim(q, 3);
    store.messages().archive(claimed.get(0).lease()).block(T);
    store.messages().deadLetter(claimed.get(1).lease(), "boom").block(T);
    StepVerifier.create(store.queues().metrics(q))
        .assertNext(m -> {
          assertThat(m.queue()).isEqualTo(q);
          assertThat(m.pending()).isEqualTo(3);
          assertThat(m.leased()).isEqualTo(1);
          assertThat(m.delayed()).isEqualTo(1);
          assertThat(m.archived()).isEqualTo(1);
          assertThat(m.dead()).isEqualTo(1);
          assertThat(m.live()).isEqualTo(5);
          assertThat(m.oldestPendingAge()).isNotNull();
        })
        .expectComplete()
        .verify(T);
    SystemMetrics system = store.admin().systemMetrics().block(T);
    assertThat(system.perQueue()).extracting(QueueMetrics::queue).contains(q);
    assertThat(system.queues()).isEqualTo(system.perQueue().size());
    assertThat(system.pending()).isGreaterThanOrEqualTo(3);
    assertThat(system.dead()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void emptyQueueReportsNoOldestPendingAge() {
    String q = newQueue();
    assertThat(store.queues().metrics(q).block(T).oldestPendingAge()).isNull();
  }
}
