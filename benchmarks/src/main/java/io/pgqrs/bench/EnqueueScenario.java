package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.Store;
import io.pgqrs.queue.Producer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;

/**
 * {@code enqueue}: P producers, each enqueueing in a closed loop for S seconds, single rows
 * ({@code enqueue}) or batches of B ({@code enqueuePayloads}, one statement per batch), for every
 * P x B of the sweep. Reports messages per second and the latency of one enqueue call. The queue
 * is emptied (and on PostgreSQL vacuumed) between cells.
 */
final class EnqueueScenario {

  private final Options options;

  EnqueueScenario(Options options) {
    this.options = options;
  }

  void run() throws Exception {
    List<Integer> producers = options.integers("producers", List.of(1, 4));
    List<Integer> batches = options.integers("batch", List.of(1, 100, 1000));
    int seconds = options.integer("seconds", 10);
    int maxProducers = producers.stream().mapToInt(Integer::intValue).max().orElse(1);
    try (Target target = Target.open(options.value("backend"), options.value("url"), "enqueue",
        options.flag("keep-schema"))) {
      String schema = target.isPostgres() ? target.newSchema("pgqrs") : "";
      Store store = Stores.connect(target, schema, Math.max(10, maxProducers + 4));
      String queue = "enqueue";
      store.queues().create(queue).block(Stores.TIMEOUT);
      ObjectNode env = Env.collect(target);
      Log.info("enqueue on " + target.describe() + ": producers " + producers + " x batch " + batches
          + ", " + seconds + " s per cell");
      // Payload objects built once, so the client's own payload building stays out of the numbers.
      List<Object> pool = Payloads.range(0, 1000);
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "enqueue",
          target.backend(), env)) {
        Progress progress = new Progress("enqueue", producers.size() * batches.size());
        // A short untimed warm-up of both paths.
        measure(store, queue, 1, 1, 1, pool);
        measure(store, queue, 1, 100, 1, pool);
        for (int p : producers) {
          for (int b : batches) {
            progress.begin("pgqrs producers=" + p + " batch=" + b);
            Stores.empty(store, queue);
            if (target.isPostgres()) {
              target.execute("VACUUM ANALYZE \"" + schema + "\".pgqrs_messages, \"" + schema + "\".pgqrs_archive");
            }
            Latencies calls = new Latencies();
            long start = System.nanoTime();
            long messages = measure(store, queue, p, b, seconds, pool, calls);
            double elapsed = (System.nanoTime() - start) / 1e9;
            ObjectNode cell = results.cell("pgqrs");
            cell.put("producers", p);
            cell.put("batch", b);
            cell.put("messages", messages);
            cell.put("seconds", Latencies.round(elapsed));
            Latencies.put(cell, "msg_per_s", messages / elapsed);
            calls.writeTo(cell, "call_", false);
            results.emit(cell);
            progress.end();
          }
        }
        Stores.empty(store, queue);
        Log.info("enqueue: results in " + results.file());
      } finally {
        Stores.close(store);
      }
    }
  }

  private static long measure(Store store, String queue, int producers, int batch, int seconds, List<Object> pool) {
    return measure(store, queue, producers, batch, seconds, pool, new Latencies());
  }

  /** P closed loops of enqueue calls until the deadline; returns the messages enqueued. */
  private static long measure(Store store, String queue, int producers, int batch, int seconds,
      List<Object> pool, Latencies calls) {
    Producer producer = store.producer(queue).build();
    AtomicLong count = new AtomicLong();
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    List<Mono<Void>> loops = new ArrayList<>();
    for (int i = 0; i < producers; i++) {
      int offset = i * 131;
      loops.add(Mono.defer(() -> {
            long n = count.get();
            long t0 = System.nanoTime();
            Mono<Integer> call;
            if (batch == 1) {
              call = producer.enqueue(pool.get((int) ((n + offset) % pool.size()))).thenReturn(1);
            } else {
              List<Object> payloads = new ArrayList<>(batch);
              for (int k = 0; k < batch; k++) {
                payloads.add(pool.get((int) ((n + offset + k) % pool.size())));
              }
              call = producer.enqueuePayloads(payloads).map(List::size);
            }
            return call.doOnNext(k -> {
              calls.record(System.nanoTime() - t0);
              count.addAndGet(k);
            });
          })
          .repeat(() -> System.nanoTime() < deadline)
          .then());
    }
    Mono.when(loops).block(Stores.TIMEOUT);
    return count.get();
  }
}
