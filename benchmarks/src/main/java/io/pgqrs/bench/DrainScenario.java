package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.Store;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * {@code drain}: prefill N messages, then drain them with C consumers claiming B at a time, for
 * every C x B of the sweep. Each pgqrs cell is measured next to the same-run ceiling (the engine's
 * claim and archive statements over plain JDBC, same C and B, same backlog) and, once per C, next
 * to the peers draining the same number of jobs with C worker threads.
 *
 * <p>Output order per C: the peer cells, then per B the ceiling cell and the pgqrs cell, which
 * carries the ratios. The last line of a run is therefore always a pgqrs cell. With
 * {@code --repeat R} the ceiling and pgqrs drains of a cell alternate R times and the cell reports
 * the median (the peers run once).
 */
final class DrainScenario {

  private static final Duration LEASE = Duration.ofSeconds(30);

  private final Options options;

  DrainScenario(Options options) {
    this.options = options;
  }

  void run() throws Exception {
    int messages = options.integer("messages", 50_000);
    List<Integer> consumers = options.integers("consumers", List.of(1, 2, 4));
    List<Integer> batches = options.integers("batch", List.of(1, 10, 50));
    String api = options.string("api", "loop");
    if (!api.equals("loop") && !api.equals("stream") && !api.equals("handle")) {
      throw new IllegalArgumentException("--api must be loop, stream or handle, not " + api);
    }
    try (Target target = Target.open(options.value("backend"), options.value("url"), "drain",
        options.flag("keep-schema"))) {
      boolean pg = target.isPostgres();
      boolean ceiling = pg && !options.flag("no-ceiling");
      List<String> peerNames = pg && !options.flag("no-peers")
          ? options.names("peers", List.of("db-scheduler", "jobrunr")) : List.of();
      int peerMessages = options.integer("peer-messages", messages);
      int warmup = options.count("warmup", Math.min(10_000, messages / 5));
      int repeat = options.integer("repeat", 1);
      int maxConsumers = consumers.stream().mapToInt(Integer::intValue).max().orElse(1);

      String schema = pg ? target.newSchema("pgqrs") : "";
      Store store = Stores.connect(target, schema, Math.max(10, 2 * maxConsumers + 2));
      boolean metered = options.flag("metrics");
      AutoCloseable meters = metered ? Stores.meter(store) : null;
      boolean traced = options.flag("tracing");
      AutoCloseable tracing = traced ? Stores.trace(store) : null;
      String queue = "drain";
      store.queues().create(queue).block(Stores.TIMEOUT);
      ObjectNode env = Env.collect(target);
      Log.info("drain on " + target.describe() + ": " + messages + " messages, consumers " + consumers
          + " x batch " + batches + ", api " + api + (ceiling ? ", with the JDBC ceiling" : "")
          + (peerNames.isEmpty() ? "" : ", peers " + peerNames));
      List<DrainPeer> peers = new ArrayList<>();
      CommitCounter commits = pg ? new CommitCounter(target, Duration.ZERO) : null;
      ObjectNode xacts = null;
      try (Results results = new Results(options.path("out", BenchMain.defaultOut()), "drain",
          target.backend(), env)) {
        for (String name : peerNames) {
          peers.add(DrainPeer.create(name, target, maxConsumers));
        }
        if (warmup > 0) {
          // Untimed: JIT, connection pools and the table's pages warm for both sides alike, through
          // the API the cells measure, so the stream and handle paths are not measured cold.
          int b = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
          Log.info("drain: warming up with " + warmup + " messages (consumers " + maxConsumers + ", batch " + b + ")");
          if (ceiling) {
            reset(store, target, schema, queue, warmup);
            new JdbcCeiling(target, schema, queue).drain(maxConsumers, b, warmup, new Latencies(), new Latencies());
          }
          reset(store, target, schema, queue, warmup);
          drain(api, store, queue, maxConsumers, b, warmup, new Latencies(), new Latencies());
        }
        int cells = consumers.size() * (peers.size() + batches.size() * (ceiling ? 2 : 1));
        Progress progress = new Progress("drain", cells);
        for (int c : consumers) {
          Map<String, Double> peerRates = new LinkedHashMap<>();
          for (DrainPeer peer : peers) {
            progress.begin(peer.name() + " consumers=" + c);
            ObjectNode cell = results.cell(peer.name());
            cell.put("consumers", c);
            cell.putNull("batch");
            cell.put("messages", peerMessages);
            try {
              peer.prefill(peerMessages);
              DrainPeer.Run run = peer.drain(c, peerMessages);
              double seconds = run.nanos() / 1e9;
              cell.put("seconds", Latencies.round(seconds));
              Latencies.put(cell, "msg_per_s", run.messages() / seconds);
              if (run.messages() < peerMessages) {
                cell.put("status", "incomplete");
              } else {
                peerRates.put(peer.name(), run.messages() / seconds);
              }
            } catch (RuntimeException e) {
              Log.info(peer.name() + " failed: " + e);
              cell.put("status", "failed");
              cell.put("error", String.valueOf(e.getMessage()));
            }
            cell.put("config", peer.configuration(c));
            results.emit(cell);
            progress.end();
          }
          for (int b : batches) {
            progress.begin((ceiling ? "jdbc-ceiling and " : "") + "pgqrs consumers=" + c + " batch=" + b
                + (repeat > 1 ? ", " + repeat + " repetitions" : ""));
            // Ceiling and pgqrs alternate, so drift (checkpoints, autovacuum) hits both alike.
            List<Double> ceilingRates = new ArrayList<>();
            List<Double> rates = new ArrayList<>();
            Latencies ceilingClaims = new Latencies();
            Latencies ceilingAcks = new Latencies();
            Latencies claims = new Latencies();
            Latencies acks = new Latencies();
            for (int r = 0; r < repeat; r++) {
              if (ceiling) {
                reset(store, target, schema, queue, messages);
                JdbcCeiling.Run run = new JdbcCeiling(target, schema, queue)
                    .drain(c, b, messages, ceilingClaims, ceilingAcks);
                ceilingRates.add(run.messages() / (run.nanos() / 1e9));
              }
              reset(store, target, schema, queue, messages);
              // The last repetition's commits per message: every statement of the engine is a
              // commit (autocommit or one transaction), background work included.
              CommitCounter.Window window = commits != null && r == repeat - 1 ? commits.begin() : null;
              long start = System.nanoTime();
              Drained drained = drain(api, store, queue, c, b, messages, claims, acks);
              rates.add(drained.messages() / ((drained.endNanos() - start) / 1e9));
              if (window != null) {
                xacts = results.cell("xact");
                commits.finish(window, drained.messages(), xacts);
              }
            }
            Double ceilingRate = null;
            if (ceiling) {
              ceilingRate = median(ceilingRates);
              ObjectNode cell = results.cell("jdbc-ceiling");
              cell.put("consumers", c);
              cell.put("batch", b);
              cell.put("messages", messages);
              cell.put("repeat", repeat);
              cell.put("seconds", Latencies.round(messages / ceilingRate));
              Latencies.put(cell, "msg_per_s", ceilingRate);
              runs(cell, ceilingRates);
              ceilingClaims.writeTo(cell, "claim_", false);
              ceilingAcks.writeTo(cell, "ack_", false);
              cell.put("config", "the engine's claim + archiveMany SQL, plain JDBC (pgjdbc), one connection per thread, auto-commit");
              results.emit(cell);
              progress.end();
            }
            double rate = median(rates);
            ObjectNode cell = results.cell("pgqrs");
            cell.put("consumers", c);
            cell.put("batch", b);
            cell.put("messages", messages);
            cell.put("api", api);
            cell.put("metrics", metered);
            cell.put("tracing", traced);
            cell.put("repeat", repeat);
            cell.put("seconds", Latencies.round(messages / rate));
            Latencies.put(cell, "msg_per_s", rate);
            runs(cell, rates);
            claims.writeTo(cell, "claim_", false);
            acks.writeTo(cell, "ack_", false);
            if (xacts != null) {
              Latencies.put(cell, "xact_per_msg", xacts.get("xact_per_run").asDouble());
              cell.put("xact_commits", xacts.get("xact_commits").asLong());
              xacts = null;
            }
            if (ceilingRate != null) {
              Latencies.put(cell, "ceiling_msg_per_s", ceilingRate);
              Latencies.put(cell, "ratio_to_ceiling", rate / ceilingRate);
            }
            if (!peerRates.isEmpty()) {
              ObjectNode p = cell.putObject("peers_msg_per_s");
              String best = null;
              double bestRate = 0;
              for (Map.Entry<String, Double> e : peerRates.entrySet()) {
                Latencies.put(p, e.getKey(), e.getValue());
                if (e.getValue() > bestRate) {
                  best = e.getKey();
                  bestRate = e.getValue();
                }
              }
              cell.put("best_peer", best);
              Latencies.put(cell, "ratio_to_best_peer", rate / bestRate);
            }
            results.emit(cell);
            progress.end();
          }
        }
        Log.info("drain: results in " + results.file());
      } finally {
        for (DrainPeer peer : peers) {
          peer.close();
        }
        if (commits != null) {
          commits.close();
        }
        if (meters != null) {
          meters.close();
        }
        if (tracing != null) {
          tracing.close();
        }
        Stores.close(store);
      }
    }
  }

  /** The median of the values (the mean of the middle two for an even count). */
  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static void runs(ObjectNode cell, List<Double> rates) {
    if (rates.size() > 1) {
      var array = cell.putArray("msg_per_s_runs");
      for (double r : rates) {
        array.add(Latencies.round(r));
      }
    }
  }

  /** Empties the queue, fills it with N fresh messages and, on PostgreSQL, vacuums and analyzes. */
  private static void reset(Store store, Target target, String schema, String queue, long messages) {
    Stores.empty(store, queue);
    Stores.prefill(store, queue, 0, messages);
    if (target.isPostgres()) {
      target.execute("VACUUM ANALYZE \"" + schema + "\".pgqrs_messages, \"" + schema + "\".pgqrs_archive");
    }
  }

  /**
   * What one drain archived, and when the last of its messages was archived ({@link System#nanoTime}):
   * the end of the timed window, so the subscriptions' shutdown afterwards is not counted.
   */
  record Drained(long messages, long endNanos) {}

  private static Drained drain(String api, Store store, String queue, int consumers, int batch, long total,
      Latencies claims, Latencies acks) {
    return switch (api) {
      case "loop" -> drainLoop(store.messages(), queue, consumers, batch, total, claims, acks);
      case "stream" -> drainStream(store, queue, consumers, batch, total, acks);
      default -> drainHandle(store, queue, consumers, batch, total);
    };
  }

  /** C reactive loops of claim(B) then archiveAll(leases) until N messages are archived. */
  static Drained drainLoop(Messages messages, String queue, int consumers, int batch, long total,
      Latencies claims, Latencies acks) {
    AtomicLong done = new AtomicLong();
    List<Mono<Void>> loops = new ArrayList<>();
    for (int i = 0; i < consumers; i++) {
      Mono<Void> loop = Mono.defer(() -> {
            long t0 = System.nanoTime();
            return messages.claim(queue, batch, LEASE, null).map(list -> {
              if (!list.isEmpty()) {
                claims.record(System.nanoTime() - t0);
              }
              return list;
            });
          })
          .flatMap(list -> {
            if (list.isEmpty()) {
              // Others hold the last leases: look again shortly.
              return Mono.delay(Duration.ofMillis(1)).thenReturn(0);
            }
            List<Lease> leases = new ArrayList<>(list.size());
            for (Message m : list) {
              leases.add(m.lease());
            }
            long t1 = System.nanoTime();
            return messages.archiveAll(leases).doOnNext(n -> {
              acks.record(System.nanoTime() - t1);
              done.addAndGet(n);
            });
          })
          .repeat(() -> done.get() < total)
          .then();
      loops.add(loop);
    }
    Mono.when(loops).block(Stores.TIMEOUT);
    return new Drained(done.get(), System.nanoTime());
  }

  /**
   * C subscriptions of the handler runtime ({@code handle()}) with a handler that does nothing,
   * each claiming up to {@code batch} per statement and running up to {@code max(1, 2 * batch)}
   * handlers at once, as {@link #drainStream} holds deliveries.
   */
  static Drained drainHandle(Store store, String queue, int consumers, int batch, long total) {
    AtomicLong done = new AtomicLong();
    AtomicLong end = new AtomicLong();
    Sinks.One<Boolean> stop = Sinks.one();
    List<Mono<Void>> subs = new ArrayList<>();
    for (int i = 0; i < consumers; i++) {
      subs.add(store.consumer(queue).batchSize(batch).concurrency(Math.max(1, 2 * batch))
          .shutdownTimeout(Duration.ofSeconds(5)).build()
          .handle(m -> Mono.empty(), stop.asMono())
          .doOnNext(o -> {
            if (o.kind() == io.pgqrs.queue.Outcome.Kind.ARCHIVED && done.incrementAndGet() == total) {
              end.set(System.nanoTime());
              stop.tryEmitValue(true);
            }
          })
          .then());
    }
    Flux.merge(subs).then().block(Stores.TIMEOUT);
    return new Drained(done.get(), endOf(end));
  }

  /** C subscriptions to the consumer stream ({@code deliveries()}), acking each delivery. */
  static Drained drainStream(Store store, String queue, int consumers, int batch, long total, Latencies acks) {
    AtomicLong done = new AtomicLong();
    AtomicLong end = new AtomicLong();
    Sinks.One<Boolean> stop = Sinks.one();
    List<Mono<Void>> subs = new ArrayList<>();
    for (int i = 0; i < consumers; i++) {
      subs.add(store.consumer(queue).batchSize(batch).shutdownTimeout(Duration.ofSeconds(5)).build().deliveries()
          .flatMap((Delivery d) -> {
            long t0 = System.nanoTime();
            return d.ack().doOnNext(ok -> {
              acks.record(System.nanoTime() - t0);
              if (ok && done.incrementAndGet() == total) {
                end.set(System.nanoTime());
                stop.tryEmitValue(true);
              }
            });
          }, Math.max(1, 2 * batch))
          .takeUntilOther(stop.asMono())
          .then());
    }
    Flux.merge(subs).then().block(Stores.TIMEOUT);
    // The subscriptions shut down in the background: give them a moment before the next cell.
    Mono.delay(Duration.ofMillis(500)).block();
    return new Drained(done.get(), endOf(end));
  }

  /** The moment the last message was settled, or now when the drain ended short of its total. */
  private static long endOf(AtomicLong end) {
    long at = end.get();
    return at != 0 ? at : System.nanoTime();
  }
}
