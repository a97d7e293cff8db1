package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockHound;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * With BlockHound installed, every store operation subscribed from a non-blocking Reactor thread
 * completes: all JDBC work happens on the store's own writer thread.
 */
class SqliteNonBlockingTest {

  private static Store store;

  @BeforeAll
  static void installBlockHound() {
    BlockHound.install();
    store = SqliteStores.newFileStore();
  }

  @AfterAll
  static void close() {
    store.close().block(Duration.ofSeconds(30));
  }

  @Test
  void blockHoundDetectsBlockingOnReactorThreads() {
    StepVerifier.create(Mono.fromCallable(() -> {
          Thread.sleep(1);
          return 1;
        }).subscribeOn(Schedulers.parallel()))
        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("Blocking call"))
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void noStoreOperationBlocksAReactorThread() {
    Mono<Integer> roundTrip = store.admin().install()
        .then(store.queues().create("nonblocking"))
        .then(store.producer("nonblocking").build()
            .enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2), Map.of("n", 3))))
        .then(store.messages().claim("nonblocking", 10))
        .flatMap(ms -> store.messages().archiveAll(ms.stream().map(Message::lease).toList()))
        .flatMap(n -> store.queues().metrics("nonblocking").thenReturn(n))
        .flatMap(n -> store.admin().systemMetrics().thenReturn(n))
        .flatMap(n -> store.workers().register("w", "nonblocking").thenReturn(n))
        .flatMap(n -> Flux.from(store.workers().health(Duration.ofMinutes(1))).then(Mono.just(n)))
        .subscribeOn(Schedulers.parallel())
        .publishOn(Schedulers.parallel());
    StepVerifier.create(roundTrip).expectNext(3).expectComplete().verify(Duration.ofSeconds(30));
  }
}
