package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.worker.InvalidWorkerStateException;
import io.pgqrs.worker.WorkerAlreadyExistsException;
import io.pgqrs.worker.WorkerHasLeasesException;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerNotFoundException;
import io.pgqrs.worker.WorkerStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Worker registration, heartbeats, lifecycle, health and lease ownership. */
public abstract class WorkerContract extends StoreContract {

  private WorkerInfo register(String queue) {
    return store.workers().register("w-" + queue + "-" + System.nanoTime(), queue).block(T);
  }

  @Test
  void registeredWorkerIsReadyWithAHeartbeat() {
    String q = newQueue();
    String name = "worker-" + q;
    StepVerifier.create(store.workers().register(name, q))
        .assertNext(w -> {
          assertThat(w.name()).isEqualTo(name);
          assertThat(w.queue()).isEqualTo(q);
          assertThat(w.status()).isEqualTo(WorkerStatus.READY);
          assertThat(w.pid()).isEqualTo(ProcessHandle.current().pid());
          assertThat(w.hostname()).isNotBlank();
          assertThat(w.heartbeatAt()).isEqualTo(w.startedAt());
        })
        .expectComplete()
        .verify(T);
    StepVerifier.create(store.workers().register(name, q))
        .expectErrorSatisfies(e -> assertThat(((WorkerAlreadyExistsException) e).workerName()).isEqualTo(name))
        .verify(T);
  }

  @Test
  void onlyAReadyWorkerCanOwnTheLeasesOfAClaim() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    WorkerInfo suspended = register(q);
    store.workers().suspend(suspended.id()).block(T);
    WorkerInfo stopped = register(q);
    store.workers().shutdown(stopped.id(), true).block(T);
    Duration lease = Duration.ofMinutes(1);
    StepVerifier.create(store.messages().claim(q, 1, lease, suspended.id()))
        .expectErrorSatisfies(e -> {
          InvalidWorkerStateException refused = (InvalidWorkerStateException) e;
          assertThat(refused.workerId()).isEqualTo(suspended.id());
          assertThat(refused.status()).isEqualTo(WorkerStatus.SUSPENDED);
        })
        .verify(T);
    StepVerifier.create(store.messages().claim(q, 1, lease, stopped.id()))
        .expectErrorSatisfies(e -> assertThat(((InvalidWorkerStateException) e).status()).isEqualTo(WorkerStatus.STOPPED))
        .verify(T);
    StepVerifier.create(store.messages().claim(q, 1, lease, Long.MAX_VALUE))
        .expectError(WorkerNotFoundException.class)
        .verify(T);
    Message untouched = store.messages().get(id).block(T);
    assertThat(untouched.attempts()).isZero();
    assertThat(untouched.leaseToken()).isNull();
    WorkerInfo ready = register(q);
    StepVerifier.create(store.messages().claim(q, 1, lease, ready.id()))
        .assertNext(claimed -> assertThat(claimed).extracting(Message::leaseOwner).containsExactly(ready.id()))
        .expectComplete()
        .verify(T);
  }

  @Test
  void workerWithoutQueueIsAllowed() {
    WorkerInfo w = store.workers().register("free-" + System.nanoTime(), null).block(T);
    assertThat(w.queue()).isNull();
  }

  @Test
  void invalidWorkerNamesAreRefused() {
    for (String name : List.of("", "   ", "x".repeat(201), "new\nline")) {
      StepVerifier.create(store.workers().register(name, null))
          .expectErrorSatisfies(e -> assertThat(((InvalidArgumentException) e).argument()).isEqualTo("workerName"))
          .verify(T);
    }
  }

  @Test
  void heartbeatMovesForwardAndReportsStatus() {
    WorkerInfo w = register(newQueue());
    Instant later = w.heartbeatAt().plusSeconds(60);
    assertThat(driver().heartbeat(new StoreParams.Heartbeat(w.id(), later)).block(T)).isEqualTo(WorkerStatus.READY);
    assertThat(store.workers().get(w.id()).block(T).heartbeatAt()).isEqualTo(later);
    store.workers().suspend(w.id()).block(T);
    StepVerifier.create(store.workers().heartbeat(w.id())).expectNext(WorkerStatus.SUSPENDED).expectComplete()
        .verify(T);
  }

  @Test
  void suspendAndResumeAreIdempotentButAStoppedWorkerStaysStopped() {
    WorkerInfo w = register(newQueue());
    assertThat(store.workers().suspend(w.id()).block(T).status()).isEqualTo(WorkerStatus.SUSPENDED);
    assertThat(store.workers().suspend(w.id()).block(T).status()).isEqualTo(WorkerStatus.SUSPENDED);
    assertThat(store.workers().resume(w.id()).block(T).status()).isEqualTo(WorkerStatus.READY);
    assertThat(store.workers().resume(w.id()).block(T).status()).isEqualTo(WorkerStatus.READY);
    store.workers().shutdown(w.id(), false).block(T);
    StepVerifier.create(store.workers().resume(w.id()))
        .expectErrorSatisfies(e -> assertThat(((InvalidWorkerStateException) e).status())
            .isEqualTo(WorkerStatus.STOPPED))
        .verify(T);
    StepVerifier.create(store.workers().suspend(w.id())).expectError(InvalidWorkerStateException.class).verify(T);
  }

  @Test
  void shutdownIsRefusedWhileHoldingLeasesUnlessReleasing() {
    String q = newQueue();
    WorkerInfo w = register(q);
    producer(q).enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    List<Message> held = store.messages().claim(q, 2, Duration.ofMinutes(5), w.id()).block(T);
    assertThat(held).allSatisfy(m -> assertThat(m.leaseOwner()).isEqualTo(w.id()));
    StepVerifier.create(store.workers().shutdown(w.id(), false))
        .expectErrorSatisfies(e -> assertThat(((WorkerHasLeasesException) e).leases()).isEqualTo(2))
        .verify(T);
    StepVerifier.create(store.workers().delete(w.id())).expectError(WorkerHasLeasesException.class).verify(T);
    StepVerifier.create(store.workers().shutdown(w.id(), true))
        .assertNext(stopped -> {
          assertThat(stopped.status()).isEqualTo(WorkerStatus.STOPPED);
          assertThat(stopped.stoppedAt()).isNotNull();
        })
        .expectComplete()
        .verify(T);
    assertThat(claim(q, 10)).as("released leases are claimable at once").hasSize(2);
    StepVerifier.create(store.workers().shutdown(w.id(), false)).expectNextCount(1).expectComplete().verify(T);
  }

  @Test
  void healthMarksWorkersWithOldHeartbeatsStale() {
    WorkerInfo w = register(newQueue());
    List<WorkerHealth> now = store.workers().health(Duration.ofMinutes(1)).collectList().block(T);
    assertThat(now).filteredOn(h -> h.worker().id() == w.id()).singleElement()
        .satisfies(h -> assertThat(h.healthy()).isTrue());
    List<WorkerHealth> later = driver().workerHealth(new StoreParams.WorkerHealthQuery(Duration.ofMinutes(1),
        Instant.now().plus(Duration.ofMinutes(5)))).collectList().block(T);
    assertThat(later).filteredOn(h -> h.worker().id() == w.id()).singleElement()
        .satisfies(h -> {
          assertThat(h.stale()).isTrue();
          assertThat(h.healthy()).isFalse();
          assertThat(h.sinceHeartbeat()).isGreaterThan(Duration.ofMinutes(4));
        });
  }

  @Test
  void listFiltersByQueueAndDeleteRemovesTheWorker() {
    String a = newQueue();
    String b = newQueue();
    WorkerInfo wa = register(a);
    WorkerInfo wb = register(b);
    assertThat(store.workers().list(a).map(WorkerInfo::id).collectList().block(T)).containsExactly(wa.id());
    assertThat(store.workers().list(null).map(WorkerInfo::id).collectList().block(T)).contains(wa.id(), wb.id());
    StepVerifier.create(store.workers().delete(wa.id())).expectComplete().verify(T);
    StepVerifier.create(store.workers().get(wa.id())).expectError(WorkerNotFoundException.class).verify(T);
    StepVerifier.create(store.workers().delete(wa.id())).expectError(WorkerNotFoundException.class).verify(T);
  }

  @Test
  void unknownWorkerFailsWithWorkerNotFound() {
    long missing = 987_654_321L;
    StepVerifier.create(store.workers().heartbeat(missing)).expectError(WorkerNotFoundException.class).verify(T);
    StepVerifier.create(store.workers().suspend(missing)).expectError(WorkerNotFoundException.class).verify(T);
    StepVerifier.create(store.workers().resume(missing)).expectError(WorkerNotFoundException.class).verify(T);
    StepVerifier.create(store.workers().shutdown(missing, true)).expectError(WorkerNotFoundException.class)
        .verify(T);
    StepVerifier.create(store.workers().get(missing)).expectError(WorkerNotFoundException.class).verify(T);
  }
}
