package io.pgqrs.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * One of the engine's batching writers (step records, run completions): writes of every run
 * executing in this engine that arrive while a write is in flight share the next write, one
 * statement for many runs, so the store's traffic per run falls as concurrency grows. A write
 * arriving when nothing is in flight goes at once, so a lone run pays no batching delay. Each item
 * is fenced on its own by its run's lease; the store answers each in input order.
 *
 * @param <T> what one write is
 * @param <R> what the store found for it
 */
final class BatchedWrites<T, R> {

  private static final int MAX_BATCH = 200;

  private final Function<List<T>, Mono<List<R>>> write;
  private final BiPredicate<T, T> conflict;
  private final Queue<Pending<T, R>> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile boolean writing;

  private record Pending<T, R>(T item, MonoSink<R> result) {}

  /**
   * @param write writes a batch in one statement where the backend allows, answering each item in
   *     input order
   * @param conflict whether two items may not share a batch (two records of one step): the later
   *     waits for the next write
   */
  BatchedWrites(Function<List<T>, Mono<List<R>>> write, BiPredicate<T, T> conflict) {
    this.write = write;
    this.conflict = conflict;
  }

  /**
   * Writes one item, possibly together with others. Cold; cancelling does not withdraw an item
   * already handed to a write.
   *
   * @param item what to write
   * @return what the write found; errors with the store's error for every item of its batch
   */
  Mono<R> write(T item) {
    return Mono.create(sink -> {
      pending.add(new Pending<>(item, sink));
      drain();
    });
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (!writing && !pending.isEmpty()) {
        List<Pending<T, R>> batch = new ArrayList<>();
        Pending<T, R> next;
        while (batch.size() < MAX_BATCH && (next = pending.poll()) != null) {
          if (conflicts(batch, next)) {
            pending.add(next);
            break;
          }
          batch.add(next);
        }
        writing = true;
        send(batch);
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private boolean conflicts(List<Pending<T, R>> batch, Pending<T, R> candidate) {
    for (Pending<T, R> p : batch) {
      if (conflict.test(p.item(), candidate.item())) {
        return true;
      }
    }
    return false;
  }

  private void send(List<Pending<T, R>> batch) {
    Mono.defer(() -> write.apply(batch.stream().map(Pending::item).toList())).subscribe(results -> {
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).result().success(results.get(i));
      }
    }, error -> {
      for (Pending<T, R> p : batch) {
        p.result().error(error);
      }
      done();
    }, this::done);
  }

  private void done() {
    writing = false;
    drain();
  }
}
