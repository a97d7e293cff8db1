package io.pgqrs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.Store;
import io.pgqrs.queue.Producer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code latency}: C idle consumers subscribed with the handler runtime ({@code handle}), wake-ups
 * on (PostgreSQL {@code LISTEN/NOTIFY}, in-process signals on SQLite and Turso); one producer
 * enqueues single messages at a fixed rate (open loop: each enqueue is sent on schedule, whether
 * or not the previous one has returned). Measured per message: from the enqueue's commit (its
 * {@code Mono} completing at the producer) to the handler starting. A handler that starts before
 * the producer has even seen its commit counts as 0 ms, and how often that happened is reported.
 */
final class LatencyScenario {

  private final Options options;

  LatencyScenario(Options options) {
    this.options = options;
  }

  void run() throws Exception {
    int rate = options.integer("rate", 500);
    int seconds = options.integer("seconds", 30);
    int consumers = options.integers("consumers", List.of(1)).get(0);
    int warmupSeconds = Math.min(3, Math.max(1, seconds / 5));
    try (Target target = Target.open(options.value("backend"), options.value("url"), "latency",
        options.flag("keep-schema"))) {
      String schema = target.isPostgres() ? target.newSchema("pgqrs") : "";
      Store store = Stores.connect(target, schema, Math.max(10, consumers + 4));
      String queue = "latency";
      store.queues().create(queue).block(Stores.TIMEOUT);
      ObjectNode env = Env.collect(target);
      Log.info("latency on " + target.describe() + ": " + rate + "/s for " + seconds + " s (after a "
          + warmupSeconds + " s warm-up), " + consumers + " consumer(s)");
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "latency",
          target.backend(), env)) {
        Progress progress = new Progress("latency", 1);
        progress.begin("pgqrs rate=" + rate + " seconds=" + seconds);
        int warmup = rate * warmupSeconds;
        int total = rate * seconds;
        AtomicLongArray committed = new AtomicLongArray(warmup + total);
        AtomicLongArray started = new AtomicLongArray(warmup + total);
        AtomicLongArray sent = new AtomicLongArray(warmup + total);
        AtomicLong handled = new AtomicLong();
        List<Disposable> subscriptions = new ArrayList<>();
        for (int i = 0; i < consumers; i++) {
          subscriptions.add(store.consumer(queue).shutdownTimeout(Duration.ofSeconds(2)).build()
              .handle(m -> {
                long now = System.nanoTime();
                JsonNode n = m.payload().get("n");
                if (n != null) {
                  started.compareAndSet(n.asInt(), 0, now);
                }
                handled.incrementAndGet();
                return Mono.empty();
              })
              .subscribe(outcome -> { }, e -> Log.info("consumer failed: " + e)));
        }
        // Let the consumers register and go idle.
        Thread.sleep(1000);
        Producer producer = store.producer(queue).build();
        long begin = System.nanoTime();
        long periodNanos = 1_000_000_000L / rate;
        long lastReport = begin;
        for (int i = 0; i < warmup + total; i++) {
          long due = begin + i * periodNanos;
          long wait;
          while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
          }
          int index = i;
          Map<String, Object> payload = Payloads.payload(i);
          sent.set(index, System.nanoTime());
          producer.enqueue(payload).subscribe(
              id -> committed.set(index, System.nanoTime()),
              e -> Log.info("enqueue " + index + " failed: " + e));
          if (System.nanoTime() - lastReport > 10_000_000_000L) {
            Progress.within("latency", i, warmup + total, begin);
            lastReport = System.nanoTime();
          }
        }
        double sendSeconds = (System.nanoTime() - begin) / 1e9;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (handled.get() < warmup + total && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        for (Disposable d : subscriptions) {
          d.dispose();
        }
        Latencies latency = new Latencies();
        Latencies enqueue = new Latencies();
        long early = 0;
        long delivered = 0;
        for (int i = warmup; i < warmup + total; i++) {
          long c = committed.get(i);
          long s = started.get(i);
          if (c != 0) {
            enqueue.record(c - sent.get(i));
          }
          if (c == 0 || s == 0) {
            continue;
          }
          delivered++;
          if (s < c) {
            early++;
          }
          latency.record(Math.max(0, s - c));
        }
        ObjectNode cell = results.cell("pgqrs");
        cell.put("consumers", consumers);
        cell.put("rate", rate);
        cell.put("seconds", seconds);
        cell.put("messages", total);
        cell.put("delivered", delivered);
        Latencies.put(cell, "achieved_rate", (warmup + total) / sendSeconds);
        latency.writeTo(cell, "", true);
        enqueue.writeTo(cell, "enqueue_", false);
        cell.put("early_starts", early);
        cell.put("warmup_seconds", warmupSeconds);
        if (delivered < total) {
          cell.put("status", "incomplete");
        }
        results.emit(cell);
        progress.end();
        Log.info("latency: results in " + results.file());
      } finally {
        Stores.close(store);
      }
    }
  }
}
