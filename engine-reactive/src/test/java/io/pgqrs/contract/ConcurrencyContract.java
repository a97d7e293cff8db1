package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueOptions;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.testing.StateWait;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Concurrent claimers and cancellation: every message claimed exactly once, no connection leaks. */
public abstract class ConcurrencyContract extends StoreContract {

  /** How many messages the concurrent drain uses; backends may lower it. */
  protected int drainMessages() {
    return 10_000;
  }

  /** How many concurrent claimers drain the queue. */
  protected int claimers() {
    return 8;
  }

  @Test
  void concurrentClaimersClaimEveryMessageExactlyOnce() {
    String q = newQueue();
    int total = drainMessages();
    List<Long> ids = new ArrayList<>();
    for (int from = 0; from < total; from += 1000) {
      ids.addAll(producer(q).enqueuePayloads(IntStream.range(from, Math.min(total, from + 1000))
          .mapToObj(ConcurrencyContract::payload).toList()).block(T));
    }
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    Flux.range(0, claimers())
        .flatMap(i -> drain(q, seen, duplicates), claimers())
        .then()
        .block(Duration.ofMinutes(5));
    assertThat(duplicates).hasValue(0);
    assertThat(seen).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(store.queues().metrics(q).block(T).archived()).isEqualTo(total);
    assertThat(store.queues().metrics(q).block(T).live()).isZero();
  }

  private Mono<Void> drain(String q, Set<Long> seen, AtomicInteger duplicates) {
    return store.messages().claim(q, 50, Duration.ofMinutes(5), null)
        .flatMap(batch -> {
          if (batch.isEmpty()) {
            return Mono.just(false);
          }
          for (Message m : batch) {
            if (!seen.add(m.id())) {
              duplicates.incrementAndGet();
            }
          }
          List<Lease> leases = batch.stream().map(Message::lease).toList();
          return store.messages().archiveAll(leases).map(n -> {
            assertThat(n).isEqualTo(batch.size());
            return true;
          });
        })
        .repeat()
        .takeUntil(more -> !more)
        .then();
  }

  /**
   * Another engine on the database of {@link #store}, closed by the test; by default the store
   * itself (SQLite in memory cannot be reached twice), whose claimers then still run concurrently.
   */
  protected Store openAnotherEngine() {
    return store;
  }

  @Test
  void aConcurrencyLimitHoldsAcrossEnginesAndEveryMessageIsHandledOnce() {
    int limit = 3;
    String q = newQueue();
    store.queues().configure(q, QueueOptions.builder().maxLeased(limit).build()).block(T);
    int total = 60;
    producer(q).enqueuePayloads(IntStream.range(0, total).mapToObj(ConcurrencyContract::payload).toList()).block(T);
    List<Store> engines = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      engines.add(openAnotherEngine());
    }
    // Held: claimed and not yet being archived. Counted after the claim returns and before the
    // archive is sent, so it never exceeds what the store holds leased.
    AtomicInteger held = new AtomicInteger();
    AtomicInteger mostHeld = new AtomicInteger();
    AtomicInteger mostLeasedInStore = new AtomicInteger();
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    try {
      Flux.range(0, engines.size() * 2)
          .flatMap(i -> {
            Store engine = engines.get(i % engines.size());
            return engine.messages().claim(q, 2, Duration.ofMinutes(5), null)
                .flatMap(batch -> {
                  int now = held.addAndGet(batch.size());
                  mostHeld.accumulateAndGet(now, Math::max);
                  for (Message m : batch) {
                    if (!seen.add(m.id())) {
                      duplicates.incrementAndGet();
                    }
                  }
                  return engine.queues().metrics(q).map(m -> {
                    mostLeasedInStore.accumulateAndGet((int) m.leased(), Math::max);
                    return batch;
                  });
                })
                .flatMap(batch -> {
                  held.addAndGet(-batch.size());
                  return engine.messages().archiveAll(batch.stream().map(Message::lease).toList());
                })
                .repeat(() -> seen.size() < total)
                .then();
          }, engines.size() * 2)
          .then()
          .block(Duration.ofMinutes(2));
    } finally {
      engines.stream().filter(e -> e != store).forEach(e -> e.close().block(T));
    }
    assertThat(duplicates).hasValue(0);
    assertThat(seen).hasSize(total);
    assertThat(mostHeld.get()).isBetween(1, limit);
    assertThat(mostLeasedInStore.get()).isBetween(1, limit);
    assertThat(store.queues().metrics(q).block(T).archived()).isEqualTo(total);
  }

  @Test
  void aLimitPerKeyHoldsAcrossEnginesAndEveryMessageIsHandledOnce() {
    int perKey = 2;
    int keys = 3;
    String q = newQueue();
    store.queues().configure(q, QueueOptions.builder().maxLeasedPerKey(perKey).build()).block(T);
    int total = 60;
    producer(q).enqueuePayloads(IntStream.range(0, total)
        .mapToObj(i -> (Object) io.pgqrs.queue.NewMessage.of(payload(i)).withGroupKey("k" + i % keys))
        .toList()).block(T);
    List<Store> engines = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      engines.add(openAnotherEngine());
    }
    // Held per key: claimed and not yet being archived, counted after the claim returns and before
    // the archive is sent, so it never exceeds what the store holds leased of that key.
    Map<String, AtomicInteger> held = new ConcurrentHashMap<>();
    AtomicInteger mostHeldOfAKey = new AtomicInteger();
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicInteger duplicates = new AtomicInteger();
    try {
      Flux.range(0, engines.size() * 2)
          .flatMap(i -> {
            Store engine = engines.get(i % engines.size());
            return engine.messages().claim(q, 3, Duration.ofMinutes(5), null)
                .flatMap(batch -> {
                  for (Message m : batch) {
                    assertThat(m.groupKey()).isNotNull();
                    int now = held.computeIfAbsent(m.groupKey(), k -> new AtomicInteger()).incrementAndGet();
                    mostHeldOfAKey.accumulateAndGet(now, Math::max);
                    if (!seen.add(m.id())) {
                      duplicates.incrementAndGet();
                    }
                  }
                  for (Message m : batch) {
                    held.get(m.groupKey()).decrementAndGet();
                  }
                  return engine.messages().archiveAll(batch.stream().map(Message::lease).toList());
                })
                .repeat(() -> seen.size() < total)
                .then();
          }, engines.size() * 2)
          .then()
          .block(Duration.ofMinutes(2));
    } finally {
      engines.stream().filter(e -> e != store).forEach(e -> e.close().block(T));
    }
    assertThat(duplicates).hasValue(0);
    assertThat(seen).hasSize(total);
    assertThat(mostHeldOfAKey.get()).isBetween(1, perKey);
    assertThat(store.queues().metrics(q).block(T).archived()).isEqualTo(total);
  }

  @Test
  void aClaimRateHoldsAcrossEngines() {
    int rate = 5;
    String q = newQueue();
    // Every claim runs at t, before the bucket was last filled: no refill, the one full bucket.
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(1);
    store.queues().configure(q, QueueOptions.builder().maxClaimsPerSecond(rate).build()).block(T);
    driver().enqueue(new StoreParams.Enqueue(q, IntStream.range(0, 40)
        .mapToObj(i -> new StoreParams.NewRow(payload(i).toString(), null, null, null, 0)).toList(), t)).block(T);
    List<Store> engines = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      engines.add(openAnotherEngine());
    }
    try {
      List<Integer> claimed = Flux.range(0, engines.size() * 3)
          .flatMap(i -> ((Engine) engines.get(i % engines.size())).driver()
              .claim(new StoreParams.Claim(q, 3, Duration.ofMinutes(5), null, t))
              .map(c -> c.claimed().size()))
          .collectList()
          .block(T);
      assertThat(claimed.stream().mapToInt(Integer::intValue).sum()).as("claims %s", claimed).isEqualTo(rate);
    } finally {
      engines.stream().filter(e -> e != store).forEach(e -> e.close().block(T));
    }
  }

  @Test
  void cancelledOperationsLeakNoConnections() {
    String q = newQueue();
    List<Long> enqueued = producer(q).enqueuePayloads(IntStream.range(0, 200).mapToObj(ConcurrencyContract::payload)
        .toList()).block(T);
    // Far more cancelled operations than the pool has connections: a leak would exhaust it.
    Flux.range(0, 200)
        .flatMap(i -> store.messages().claim(q, 1).timeout(Duration.ofNanos(1), Mono.empty()), 16)
        .then()
        .block(T);
    Flux.range(0, 100)
        .flatMap(i -> producer(q).enqueue(payload(i)).timeout(Duration.ofNanos(1), Mono.empty()), 16)
        .then()
        .block(T);
    // How many cancelled operations got through is not known, only its bounds; one may still be
    // committing (on PostgreSQL an enqueue committed just now can even look a moment delayed).
    QueueMetrics afterCancel = store.queues().metrics(q).block(T);
    assertThat(afterCancel.archived()).isZero();
    assertThat(afterCancel.dead()).isZero();
    assertThat(afterCancel.live()).as("the first 200 and the cancelled enqueues that got through")
        .isBetween(200L, 300L);
    assertThat(afterCancel.leased()).as("at most one per cancelled claim").isLessThanOrEqualTo(200L);
    List<Message> claimable = new ArrayList<>();
    Flux.range(0, 3).concatMap(i -> store.messages().claim(q, 500, Duration.ofMinutes(5), null))
        .doOnNext(claimable::addAll).then().block(T);
    // A cancelled claim may still be in flight, holding row locks it is about to roll back, and
    // the claims above skip locked rows: claim again until no message of the first 200 is unheld.
    StateWait.until("every message of the first 200 was claimed once", T,
        () -> driver().listMessages(new StoreParams.ListMessages(q, MessageState.LIVE, 0, 1000))
            .filter(m -> m.attempts() == 0 && enqueued.contains(m.id()))
            .hasElements()
            .flatMap(unheld -> unheld
                ? store.messages().claim(q, 500, Duration.ofMinutes(5), null).doOnNext(claimable::addAll)
                    .thenReturn(false)
                : Mono.just(true)));
    assertThat(claimable).extracting(Message::id).doesNotHaveDuplicates();
    // Disjoint from what the cancelled claims took: each message was claimed once, here.
    assertThat(claimable).allSatisfy(m -> {
      assertThat(m.attempts()).isEqualTo(1);
      assertThat(m.leaseToken()).isNotNull();
    });
    Map<Long, Message> live = new HashMap<>();
    for (Message m : driver().listMessages(new StoreParams.ListMessages(q, MessageState.LIVE, 0, 1000)).toIterable()) {
      live.put(m.id(), m);
    }
    assertThat(live.keySet()).as("every claimed id is a live message of this queue")
        .containsAll(claimable.stream().map(Message::id).toList());
    // Every message of the first 200 is held exactly once: by a cancelled claim that got through,
    // or by the claims above, under their token.
    Map<Long, UUID> claimedHere = new HashMap<>();
    claimable.forEach(m -> claimedHere.put(m.id(), m.leaseToken()));
    assertThat(enqueued).allSatisfy(id -> {
      Message m = live.get(id);
      assertThat(m).as("message %d", id).isNotNull();
      assertThat(m.attempts()).as("attempts of message %d", id).isEqualTo(1);
      assertThat(m.leaseToken()).as("lease of message %d", id).isNotNull();
      if (claimedHere.containsKey(id)) {
        assertThat(m.leaseToken()).isEqualTo(claimedHere.get(id));
      }
    });
  }
}
