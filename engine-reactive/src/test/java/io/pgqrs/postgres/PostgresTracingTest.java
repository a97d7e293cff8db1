package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.ThreadLocalCurrentTraceContext;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.TracingContract;
import io.pgqrs.queue.Outcome;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.tracing.PgqrsObservations;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

/**
 * The tracing contract on PostgreSQL, and a real tracer (Brave through Micrometer Tracing's
 * propagating handlers) whose trace crosses from one engine to another through a message.
 */
@ExtendWith(PostgresDatabase.class)
class PostgresTracingTest extends TracingContract {

  private final PostgresDatabase.Target database;

  PostgresTracingTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected Store openStore() {
    return Pgqrs.connect(database.dsn()).block(T);
  }

  @Test
  void aRealTracersTraceCrossesFromTheProducingEngineToTheConsumingOneThroughTheMessage() {
    Queue<MutableSpan> finished = new ConcurrentLinkedQueue<>();
    ThreadLocalCurrentTraceContext current = ThreadLocalCurrentTraceContext.newBuilder().build();
    try (Tracing tracing = Tracing.newBuilder().currentTraceContext(current).sampler(Sampler.ALWAYS_SAMPLE)
        .addSpanHandler(new SpanHandler() {
          @Override
          public boolean end(TraceContext context, MutableSpan span, Cause cause) {
            finished.add(span);
            return true;
          }
        }).build()) {
      Tracer tracer = new BraveTracer(tracing.tracer(), new BraveCurrentTraceContext(current), new BraveBaggageManager());
      BravePropagator propagator = new BravePropagator(tracing);
      ObservationRegistry registry = ObservationRegistry.create();
      registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
          new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
          new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
          new DefaultTracingObservationHandler(tracer)));

      String q = newQueue();
      Span request = tracer.nextSpan().name("request").start();
      Store consuming = openStore();
      PgqrsObservations producerSide = PgqrsObservations.register(store, registry);
      PgqrsObservations consumerSide = PgqrsObservations.register(consuming, registry);
      try {
        Tracer.SpanInScope scope = tracer.withSpan(request);
        try {
          producer(q).enqueue(payload(1)).block(T);
        } finally {
          scope.close();
          request.end();
        }
        List<Outcome> outcomes = consuming.consumer(q).build().handle(m -> Mono.empty()).take(1).collectList().block(T);
        assertThat(outcomes).extracting(Outcome::kind).containsExactly(Outcome.Kind.ARCHIVED);
      } finally {
        producerSide.close();
        consumerSide.close();
        consuming.close().block(T);
      }

      String traceId = request.context().traceId();
      MutableSpan enqueue = only(finished, q + " publish");
      MutableSpan handle = only(finished, q + " process");
      assertThat(enqueue.traceId()).isEqualTo(traceId);
      assertThat(enqueue.parentId()).isEqualTo(request.context().spanId());
      assertThat(enqueue.kind()).isEqualTo(brave.Span.Kind.PRODUCER);
      assertThat(handle.traceId()).as("the consumer's span continues the producer's trace").isEqualTo(traceId);
      assertThat(handle.parentId()).as("the handler's span is a child of the enqueue's").isEqualTo(enqueue.id());
      assertThat(handle.kind()).isEqualTo(brave.Span.Kind.CONSUMER);
    }
  }

  private static MutableSpan only(Queue<MutableSpan> spans, String name) {
    List<MutableSpan> named = spans.stream().filter(s -> name.equals(s.name())).toList();
    assertThat(named).as("spans named %s", name).hasSize(1);
    return named.get(0);
  }
}
