package io.pgqrs.bench;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.queue.Producer;
import java.time.Duration;
import reactor.core.publisher.Flux;

/** Connecting pgqrs stores and filling queues, shared by the scenarios. */
final class Stores {

  static final Duration TIMEOUT = Duration.ofMinutes(5);

  private Stores() {}

  /** Connects a store on a fresh schema (PostgreSQL) or the target's file, installs and returns it. */
  static Store connect(Target target, String schema, int poolMaxSize) {
    PgqrsConfig config = PgqrsConfig.builder(target.pgqrsDsn(target.isPostgres() ? schema : null, poolMaxSize))
        .build();
    Store store = Pgqrs.connect(config).block(TIMEOUT);
    if (store == null) {
      throw new IllegalStateException("connect returned nothing");
    }
    store.admin().install().block(TIMEOUT);
    return store;
  }

  /** Enqueues {@code count} benchmark payloads in batches of 1000, numbered from {@code from}. */
  static void prefill(Store store, String queue, long from, long count) {
    Producer producer = store.producer(queue).build();
    int chunk = 1000;
    Flux.range(0, (int) ((count + chunk - 1) / chunk))
        .concatMap(i -> {
          long start = from + (long) i * chunk;
          long end = Math.min(from + count, start + chunk);
          return producer.enqueuePayloads(Payloads.range(start, end));
        }, 0)
        .then()
        .block(TIMEOUT);
  }

  /** Removes every message of the queue, live and archived. */
  static void empty(Store store, String queue) {
    store.queues().purge(queue).block(TIMEOUT);
    store.archive().purgeOlderThan(queue, Duration.ZERO).block(TIMEOUT);
    store.deadLetters().purge(queue).block(TIMEOUT);
  }

  /**
   * Binds the store's Micrometer meters to a registry of their own, as an application would: the
   * counters and timers (with percentiles) are fed from then on; the gauges refresh every 10 s.
   */
  static AutoCloseable meter(Store store) {
    io.pgqrs.metrics.PgqrsMetrics metrics = new io.pgqrs.metrics.PgqrsMetrics(store);
    metrics.bindTo(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    return metrics;
  }

  /**
   * Observes the store as a traced application would ({@code PgqrsObservations} with Micrometer
   * Tracing's propagating handlers over a sampled Brave tracer): every enqueue opens a span and
   * stores its context in the message headers, every handler execution opens one from them. Spans
   * are dropped when they end, as by a reporter that keeps up.
   */
  static AutoCloseable trace(Store store) {
    brave.propagation.ThreadLocalCurrentTraceContext current =
        brave.propagation.ThreadLocalCurrentTraceContext.newBuilder().build();
    // A span handler of its own, or Brave logs every finished span (its default reporter).
    brave.Tracing tracing = brave.Tracing.newBuilder().currentTraceContext(current)
        .sampler(brave.sampler.Sampler.ALWAYS_SAMPLE)
        .addSpanHandler(new brave.handler.SpanHandler() {
          @Override
          public boolean end(brave.propagation.TraceContext context, brave.handler.MutableSpan span, Cause cause) {
            return true;
          }
        }).build();
    io.micrometer.tracing.Tracer tracer = new io.micrometer.tracing.brave.bridge.BraveTracer(tracing.tracer(),
        new io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext(current),
        new io.micrometer.tracing.brave.bridge.BraveBaggageManager());
    io.micrometer.tracing.brave.bridge.BravePropagator propagator =
        new io.micrometer.tracing.brave.bridge.BravePropagator(tracing);
    io.micrometer.observation.ObservationRegistry registry = io.micrometer.observation.ObservationRegistry.create();
    registry.observationConfig().observationHandler(
        new io.micrometer.observation.ObservationHandler.FirstMatchingCompositeObservationHandler(
            new io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler<>(tracer, propagator),
            new io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
            new io.micrometer.tracing.handler.DefaultTracingObservationHandler(tracer)));
    io.pgqrs.tracing.PgqrsObservations observations = io.pgqrs.tracing.PgqrsObservations.register(store, registry);
    return () -> {
      observations.close();
      tracing.close();
    };
  }

  static void close(Store store) {
    store.close().block(Duration.ofMinutes(1));
  }
}
