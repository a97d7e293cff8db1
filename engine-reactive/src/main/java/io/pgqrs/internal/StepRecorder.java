package io.pgqrs.internal;

import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The engine's step recorder: step records of every run executing in this engine that arrive while
 * a write is in flight share the next write, one statement for many runs, so the store's traffic
 * per step falls as concurrency grows. A record arriving when nothing is in flight is written at
 * once, so a lone run pays no batching delay. Each record is fenced on its own by its run's lease.
 */
final class StepRecorder {

  private static final int MAX_BATCH = 200;

  private final StoreDriver driver;
  private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile boolean writing;

  private record Pending(StoreParams.RecordStep step, MonoSink<StoreResults.StepWritten> result) {}

  StepRecorder(StoreDriver driver) {
    this.driver = driver;
  }

  /**
   * Writes one record, possibly together with others. Cold; cancelling does not withdraw a record
   * already handed to a write.
   *
   * @param step the record
   * @return what the write found; errors with the store's error for every record of its batch
   */
  Mono<StoreResults.StepWritten> record(StoreParams.RecordStep step) {
    return Mono.create(sink -> {
      pending.add(new Pending(step, sink));
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
        List<Pending> batch = new ArrayList<>();
        Pending next;
        while (batch.size() < MAX_BATCH && (next = pending.poll()) != null) {
          if (conflicts(batch, next)) {
            // One record per step in a batch: a later record of the same step waits for the next write.
            pending.add(next);
            break;
          }
          batch.add(next);
        }
        writing = true;
        write(batch);
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private static boolean conflicts(List<Pending> batch, Pending candidate) {
    for (Pending p : batch) {
      if (p.step().runId() == candidate.step().runId() && p.step().stepId().equals(candidate.step().stepId())) {
        return true;
      }
    }
    return false;
  }

  private void write(List<Pending> batch) {
    List<StoreParams.RecordStep> steps = batch.stream().map(Pending::step).toList();
    driver.recordSteps(new StoreParams.RecordSteps(steps, null)).subscribe(results -> {
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).result().success(results.get(i));
      }
    }, error -> {
      for (Pending p : batch) {
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
