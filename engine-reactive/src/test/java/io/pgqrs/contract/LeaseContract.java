package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageNotFoundException;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Lease operations and their fencing, lease expiry, dead letters and the archive. */
public abstract class LeaseContract extends StoreContract {

  private static final Duration LEASE = Duration.ofSeconds(30);

  private List<Message> claimAt(String queue, int limit, Instant now) {
    return driver().claim(new StoreParams.Claim(queue, limit, LEASE, null, now)).block(T).claimed();
  }

  @Test
  void archiveWithTheLeaseArchivesOnce() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    StepVerifier.create(store.messages().archive(m.lease())).expectNext(true).expectComplete().verify(T);
    StepVerifier.create(store.messages().archive(m.lease())).expectNext(false).expectComplete().verify(T);
    Message archived = store.messages().get(m.id()).block(T);
    assertThat(archived.state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(archived.archivedAt()).isNotNull();
    assertThat(store.archive().list(q, 0, 10).map(Message::id).collectList().block(T)).containsExactly(m.id());
  }

  @Test
  void operationsWithAForeignTokenChangeNothing() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    Lease forged = new Lease(m.id(), UUID.randomUUID(), m.visibleAt());
    StepVerifier.create(store.messages().archive(forged)).expectNext(false).expectComplete().verify(T);
    StepVerifier.create(store.messages().delete(forged)).expectNext(false).expectComplete().verify(T);
    StepVerifier.create(store.messages().release(forged)).expectNext(false).expectComplete().verify(T);
    StepVerifier.create(store.messages().extend(forged, Duration.ofMinutes(5))).expectComplete().verify(T);
    StepVerifier.create(store.messages().deadLetter(forged, "x")).expectNext(false).expectComplete().verify(T);
    Message after = store.messages().get(m.id()).block(T);
    assertThat(after).isEqualTo(m);
  }

  @Test
  void expiredLeaseIsRedeliveredAndTheFirstHolderCannotAck() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Message first = claim(q, 1).get(0);
    Instant afterExpiry = first.visibleAt().plusSeconds(1);
    List<Message> second = claimAt(q, 1, afterExpiry);
    assertThat(second).extracting(Message::id).containsExactly(id);
    Message again = second.get(0);
    assertThat(again.attempts()).isEqualTo(2);
    assertThat(again.leaseToken()).isNotEqualTo(first.leaseToken());

    StoreParams.LeaseRef stale = new StoreParams.LeaseRef(id, first.leaseToken(), afterExpiry);
    StoreParams.LeaseRef current = new StoreParams.LeaseRef(id, again.leaseToken(), afterExpiry);
    assertThat(driver().archive(stale).block(T)).isFalse();
    assertThat(driver().extend(new StoreParams.Extend(stale, LEASE)).blockOptional(T)).isEmpty();
    assertThat(driver().release(new StoreParams.Release(stale, Duration.ZERO, null)).block(T)).isFalse();
    assertThat(driver().archive(current).block(T)).isTrue();
    assertThat(driver().archive(current).block(T)).isFalse();
    Message done = store.messages().get(id).block(T);
    assertThat(done.state()).isEqualTo(MessageState.ARCHIVED);
    assertThat(done.attempts()).isEqualTo(2);
  }

  private long enqueueAt(String queue, Instant at) {
    StoreParams.NewRow row = new StoreParams.NewRow(payload(0).toString(), null, null, null, 0);
    return driver().enqueue(new StoreParams.Enqueue(queue, List.of(row), at)).block(T).get(0).id();
  }

  @Test
  void expiredLeaseIsClaimedAgainAtItsPlaceBeforeMessagesEnqueuedLater() {
    String q = newQueue();
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    long first = enqueueAt(q, t0);
    assertThat(claimAt(q, 1, t0)).extracting(Message::id).containsExactly(first);
    // Enqueued while the first is held, and due long before its lease ends.
    long second = enqueueAt(q, t0.plusSeconds(10));
    long third = enqueueAt(q, t0.plusSeconds(10));
    Instant afterExpiry = t0.plus(LEASE).plusSeconds(1);
    assertThat(claimAt(q, 1, afterExpiry)).as("the expired message is first again")
        .extracting(Message::id, Message::attempts).containsExactly(tuple(first, 2));
    assertThat(claimAt(q, 5, afterExpiry)).extracting(Message::id).containsExactly(second, third);
  }

  @Test
  void extendedLeaseThatExpiresKeepsItsPlace() {
    String q = newQueue();
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    long first = enqueueAt(q, t0);
    Message held = claimAt(q, 1, t0).get(0);
    long second = enqueueAt(q, t0.plusSeconds(10));
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(first, held.leaseToken(), t0.plusSeconds(20));
    assertThat(driver().extend(new StoreParams.Extend(lease, LEASE)).blockOptional(T)).isPresent();
    Instant afterOriginalExpiry = t0.plus(LEASE).plusSeconds(1);
    assertThat(claimAt(q, 5, afterOriginalExpiry)).as("the extended lease still holds")
        .extracting(Message::id).containsExactly(second);
    Instant afterExtendedExpiry = t0.plusSeconds(20).plus(LEASE).plusSeconds(1);
    assertThat(claimAt(q, 5, afterExtendedExpiry)).extracting(Message::id).containsExactly(first);
  }

  @Test
  void releasedMessageTakesItsPlaceAtTheEndOfItsDelay() {
    String q = newQueue();
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    long first = enqueueAt(q, t0);
    Message held = claimAt(q, 1, t0).get(0);
    // Released at t0 + 1s with a backoff of 20s: due at t0 + 21s, after the message due at t0 + 10s.
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(first, held.leaseToken(), t0.plusSeconds(1));
    assertThat(driver().release(new StoreParams.Release(lease, Duration.ofSeconds(20), "retry")).block(T)).isTrue();
    long second = enqueueAt(q, t0.plusSeconds(10));
    assertThat(claimAt(q, 5, t0.plusSeconds(40))).extracting(Message::id).containsExactly(second, first);
  }

  @Test
  void messageReleasedInABatchOfSettlesTakesItsPlaceAtTheEndOfItsDelay() {
    String q = newQueue();
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    long first = enqueueAt(q, t0);
    long other = enqueueAt(q, t0);
    List<Message> held = claimAt(q, 2, t0);
    assertThat(held).extracting(Message::id).containsExactly(first, other);
    // The completer's path: both settled in one statement at t0 + 1s; the first with a 20s backoff.
    List<StoreParams.Settle> settles = List.of(
        StoreParams.Settle.release(first, held.get(0).leaseToken(), Duration.ofSeconds(20), "retry"),
        StoreParams.Settle.archive(other, held.get(1).leaseToken()));
    assertThat(driver().settleMany(new StoreParams.SettleMany(settles, t0.plusSeconds(1))).block(T))
        .containsExactly(StoreResults.Settled.APPLIED, StoreResults.Settled.APPLIED);
    long second = enqueueAt(q, t0.plusSeconds(10));
    assertThat(claimAt(q, 5, t0.plusSeconds(40))).extracting(Message::id).containsExactly(second, first);
  }

  @Test
  void expiredLeaseCannotBeAckedEvenBeforeAnyoneElseClaims() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    StoreParams.LeaseRef late = new StoreParams.LeaseRef(m.id(), m.leaseToken(), m.visibleAt().plusMillis(1));
    assertThat(driver().archive(late).block(T)).isFalse();
    assertThat(driver().delete(late).block(T)).isFalse();
    assertThat(store.messages().get(m.id()).block(T).state()).isEqualTo(MessageState.LIVE);
  }

  @Test
  void extendMovesTheExpiryAndKeepsTheToken() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    StepVerifier.create(store.messages().extend(m.lease(), Duration.ofMinutes(10)))
        .assertNext(l -> {
          assertThat(l.token()).isEqualTo(m.leaseToken());
          assertThat(l.expiresAt()).isAfter(m.visibleAt());
        })
        .expectComplete()
        .verify(T);
    Instant afterOriginalExpiry = m.visibleAt().plusSeconds(1);
    assertThat(claimAt(q, 1, afterOriginalExpiry)).as("extended lease still holds").isEmpty();
  }

  @Test
  void releaseMakesTheMessageClaimableAgainAfterItsDelay() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    StepVerifier.create(store.messages().release(m.lease(), Duration.ofMinutes(5), "try later"))
        .expectNext(true).expectComplete().verify(T);
    assertThat(claim(q, 1)).isEmpty();
    Message released = store.messages().get(m.id()).block(T);
    assertThat(released.lastError()).isEqualTo("try later");
    assertThat(released.leaseToken()).isNull();
    List<Message> later = claimAt(q, 1, Instant.now().plus(Duration.ofMinutes(6)));
    assertThat(later).extracting(Message::attempts).containsExactly(2);
  }

  @Test
  void releaseWithoutDelayIsClaimableAtOnce() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    assertThat(store.messages().release(m.lease()).block(T)).isTrue();
    assertThat(claim(q, 1)).extracting(Message::id).containsExactly(m.id());
  }

  @Test
  void deleteRemovesTheMessage() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    StepVerifier.create(store.messages().delete(m.lease())).expectNext(true).expectComplete().verify(T);
    StepVerifier.create(store.messages().get(m.id())).expectError(io.pgqrs.queue.MessageNotFoundException.class).verify(T);
  }

  @Test
  void archiveAllAcksOnlyTheLeasesStillHeld() {
    String q = newQueue();
    producer(q).enqueuePayloads(IntStream.range(0, 5).mapToObj(LeaseContract::payload).toList()).block(T);
    List<Message> claimed = claim(q, 5);
    store.messages().release(claimed.get(4).lease()).block(T);
    List<Lease> leases = claimed.stream().map(Message::lease).toList();
    StepVerifier.create(store.messages().archiveAll(leases)).expectNext(4).expectComplete().verify(T);
    StepVerifier.create(store.messages().archiveAll(List.of())).expectNext(0).expectComplete().verify(T);
    assertThat(store.queues().metrics(q).block(T).archived()).isEqualTo(4);
  }

  @Test
  void messageIsDeadLetteredAtTheClaimAfterItsLastAttempt() {
    String q = newQueue(2);
    long id = producer(q).enqueue(payload(1)).block(T);
    for (int attempt = 1; attempt <= 2; attempt++) {
      Message m = claim(q, 1).get(0);
      assertThat(m.attempts()).isEqualTo(attempt);
      store.messages().release(m.lease(), Duration.ZERO, "failure " + attempt).block(T);
    }
    assertThat(claim(q, 1)).as("third delivery is not made").isEmpty();
    Message dead = store.messages().get(id).block(T);
    assertThat(dead.state()).isEqualTo(MessageState.DEAD);
    assertThat(dead.deadAt()).isNotNull();
    assertThat(dead.attempts()).isEqualTo(2);
    assertThat(dead.lastError()).isEqualTo("failure 2");
    assertThat(dead.payload().get("n").asInt()).isEqualTo(1);
    assertThat(store.deadLetters().list(q, 0, 10).map(Message::id).collectList().block(T)).containsExactly(id);
  }

  @Test
  void claimSkipsPastExhaustedMessagesToFillTheBatchLater() {
    String q = newQueue(1);
    long exhausted = producer(q).enqueue(payload(1)).block(T);
    Message m = claim(q, 1).get(0);
    store.messages().release(m.lease()).block(T);
    long fresh = producer(q).enqueue(payload(2)).block(T);
    List<Message> got = claim(q, 5);
    assertThat(got).extracting(Message::id).containsExactly(fresh);
    assertThat(store.messages().get(exhausted).block(T).state()).isEqualTo(MessageState.DEAD);
  }

  @Test
  void deadLetterReplayBringsMessagesBackWithAttemptsReset() {
    String q = newQueue(1);
    List<Long> ids = producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    for (Message m : claim(q, 3)) {
      store.messages().deadLetter(m.lease(), "bad " + m.id()).block(T);
    }
    assertThat(store.queues().metrics(q).block(T).dead()).isEqualTo(3);
    StepVerifier.create(store.deadLetters().replay(q, List.of(ids.get(0), 999_999_999L)))
        .expectNext(1L).expectComplete().verify(T);
    List<Message> replayed = claim(q, 10);
    assertThat(replayed).extracting(Message::id).containsExactly(ids.get(0));
    assertThat(replayed.get(0).attempts()).isEqualTo(1);
    StepVerifier.create(store.deadLetters().replayAll(q)).expectNext(2L).expectComplete().verify(T);
    assertThat(store.queues().metrics(q).block(T).dead()).isZero();
  }

  @Test
  void replayNeverCollidesWithALiveDedupKey() {
    String q = newQueue(1);
    producer(q).enqueue(io.pgqrs.queue.NewMessage.of(payload(1)).withDedupKey("k")).block(T);
    Message m = claim(q, 1).get(0);
    store.messages().deadLetter(m.lease(), "bad").block(T);
    long live = producer(q).enqueue(io.pgqrs.queue.NewMessage.of(payload(2)).withDedupKey("k")).block(T);
    assertThat(live).isNotEqualTo(m.id());
    StepVerifier.create(store.deadLetters().replayAll(q)).expectNext(1L).expectComplete().verify(T);
    assertThat(store.messages().get(m.id()).block(T).dedupKey()).isNull();
    assertThat(store.messages().get(live).block(T).dedupKey()).isEqualTo("k");
  }

  @Test
  void deadLetterPurgeDeletesOnlyDeadMessages() {
    String q = newQueue(1);
    producer(q).enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    Message m = claim(q, 1).get(0);
    store.messages().deadLetter(m.lease(), "bad").block(T);
    StepVerifier.create(store.deadLetters().purge(q)).expectNext(1L).expectComplete().verify(T);
    assertThat(store.queues().metrics(q).block(T).pending()).isEqualTo(1);
  }

  @Test
  void archivePurgeByAgeKeepsRecentMessages() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    for (Message m : claim(q, 2)) {
      store.messages().archive(m.lease()).block(T);
    }
    StepVerifier.create(store.archive().purgeOlderThan(q, Duration.ofHours(1))).expectNext(0L).expectComplete()
        .verify(T);
    Long purgedLater = driver().purgeMessages(new StoreParams.PurgeMessages(q, MessageState.ARCHIVED,
        Duration.ofHours(1), 0, Instant.now().plus(Duration.ofHours(2)))).block(T);
    assertThat(purgedLater).isEqualTo(2);
    assertThat(store.archive().list(q, 0, 10).collectList().block(T)).isEmpty();
  }

  @Test
  void archiveListPagesById() {
    String q = newQueue();
    producer(q).enqueuePayloads(IntStream.range(0, 5).mapToObj(LeaseContract::payload).toList()).block(T);
    store.messages().archiveAll(claim(q, 5).stream().map(Message::lease).toList()).block(T);
    List<Message> page1 = store.archive().list(q, 0, 2).collectList().block(T);
    List<Message> page2 = store.archive().list(q, page1.get(1).id(), 10).collectList().block(T);
    assertThat(page1).hasSize(2);
    assertThat(page2).hasSize(3);
    assertThat(page2.get(0).id()).isGreaterThan(page1.get(1).id());
  }

  @Test
  void messagesListByStateShowsEachStateApartAndPagesById() {
    String q = newQueue();
    List<Long> ids = producer(q).enqueuePayloads(IntStream.range(0, 5).mapToObj(LeaseContract::payload).toList())
        .block(T);
    long delayed = producer(q).enqueueDelayed(payload(9), Duration.ofHours(1)).block(T);
    List<Message> claimed = claim(q, 3);
    store.messages().archive(claimed.get(0).lease()).block(T);
    store.messages().deadLetter(claimed.get(1).lease(), "for the test").block(T);
    long leased = claimed.get(2).id();

    // Live: the leased one, the two never claimed and the delayed one, in id order.
    List<Long> live = store.messages().list(q, MessageState.LIVE, 0, 100).map(Message::id).collectList().block(T);
    List<Long> expectedLive = new ArrayList<>(ids);
    expectedLive.removeAll(List.of(claimed.get(0).id(), claimed.get(1).id()));
    expectedLive.add(delayed);
    assertThat(live).containsExactlyElementsOf(expectedLive.stream().sorted().toList()).contains(leased);
    assertThat(store.messages().list(q, MessageState.ARCHIVED, 0, 100).map(Message::id).collectList().block(T))
        .containsExactly(claimed.get(0).id());
    StepVerifier.create(store.messages().list(q, MessageState.DEAD, 0, 100))
        .assertNext(m -> assertThat(tuple(m.id(), m.state(), m.lastError()))
            .isEqualTo(tuple(claimed.get(1).id(), MessageState.DEAD, "for the test")))
        .expectComplete()
        .verify(T);

    List<Message> page1 = store.messages().list(q, MessageState.LIVE, 0, 2).collectList().block(T);
    List<Message> page2 = store.messages().list(q, MessageState.LIVE, page1.get(1).id(), 100).collectList().block(T);
    assertThat(page1).hasSize(2).allMatch(m -> m.state() == MessageState.LIVE);
    assertThat(page2).extracting(Message::id).containsExactlyElementsOf(live.subList(2, live.size()));
    // A read only: the leased message keeps its lease.
    assertThat(store.messages().get(leased).block(T).leaseToken()).isEqualTo(claimed.get(2).leaseToken());
  }

  @Test
  void messagesListRefusesAnUnknownQueueANullStateAndABadLimit() {
    String q = newQueue();
    StepVerifier.create(store.messages().list("no_such_queue_" + System.nanoTime(), MessageState.LIVE, 0, 10))
        .expectError(QueueNotFoundException.class)
        .verify(T);
    StepVerifier.create(store.messages().list(q, null, 0, 10))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(InvalidArgumentException.class,
            i -> assertThat(i.argument()).isEqualTo("state")))
        .verify(T);
    StepVerifier.create(store.messages().list(q, MessageState.LIVE, 0, 0))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(InvalidArgumentException.class,
            i -> assertThat(i.argument()).isEqualTo("limit")))
        .verify(T);
  }
}
