package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Outcome;
import io.pgqrs.tracing.PgqrsObservations;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Message headers and tracing ({@link PgqrsObservations}): headers stored and read back exactly,
 * bad headers refused with nothing stored, and a producer's trace context carried to the handler
 * through the message, on every backend. The propagation is that of a tracer's handlers, played
 * here by {@link Propagation}: it writes a {@code traceparent} into each sender's carrier and reads
 * it back from each receiver's.
 */
public abstract class TracingContract extends StoreContract {

  /** Hostile text: quotes, markup, SQL, a backslash, accents, an emoji, a JSON fragment. */
  private static final String HOSTILE = "it's \"quoted\" <script>alert(1)</script> '); DROP TABLE x; -- \\ é 🚀 {\"a\":1}";

  private ObservationRegistry registry;
  private Propagation propagation;
  private @Nullable PgqrsObservations observations;

  @BeforeEach
  void registerObservations() {
    registry = ObservationRegistry.create();
    propagation = new Propagation();
    registry.observationConfig().observationHandler(propagation);
    observations = PgqrsObservations.register(store, registry);
  }

  @AfterEach
  void closeObservations() {
    if (observations != null) {
      observations.close();
    }
  }

  @Test
  void headersAreStoredAndReadBackExactlyByGetListClaimAndDeadLetters() {
    observations.close();
    String q = newQueue();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    headers.put("x-hostile", HOSTILE);
    headers.put("empty", "");
    List<Long> ids = producer(q).enqueueBatch(List.of(
        NewMessage.of(payload(1)).withHeaders(headers),
        NewMessage.of(payload(2)),
        NewMessage.of(payload(3)).withHeader("tenant", "acme"))).block(T);
    assertThat(store.messages().get(ids.get(0)).block(T).headers()).isEqualTo(headers);
    assertThat(store.messages().get(ids.get(1)).block(T).headers()).as("a message without headers").isEmpty();
    assertThat(store.messages().list(q, MessageState.LIVE, 0, 10).collectList().block(T))
        .extracting(Message::headers)
        .containsExactly(headers, Map.of(), Map.of("tenant", "acme"));
    List<Message> claimed = claim(q, 3);
    assertThat(claimed).extracting(Message::headers).containsExactly(headers, Map.of(), Map.of("tenant", "acme"));
    store.messages().deadLetter(claimed.get(0).lease(), "boom").block(T);
    assertThat(store.deadLetters().list(q, 0, 10).collectList().block(T))
        .singleElement().extracting(Message::headers).isEqualTo(headers);
  }

  @Test
  void badHeadersAreRefusedWithATypedErrorAndNothingIsStored() {
    NewMessage base = NewMessage.of(payload(1));
    Map<String, String> tooMany = new LinkedHashMap<>();
    for (int i = 0; i <= NewMessage.MAX_HEADERS; i++) {
      tooMany.put("h" + i, "v");
    }
    assertRefused(() -> base.withHeaders(tooMany));
    assertRefused(() -> base.withHeader("", "v"));
    assertRefused(() -> base.withHeader("x".repeat(NewMessage.MAX_HEADER_NAME + 1), "v"));
    assertRefused(() -> base.withHeader("line\nbreak", "v"));
    assertRefused(() -> base.withHeader("nul", "a\u0000b"));
    assertRefused(() -> base.withHeader("long", "v".repeat(NewMessage.MAX_HEADER_VALUE + 1)));
    assertRefused(() -> base.withHeaders(null));
    assertThat(base.withHeader("ok", "v").headers()).as("a refused copy leaves the original").containsOnlyKeys("ok");
    assertThat(base.headers()).isEmpty();

    String q = newQueue();
    // A lone surrogate fits the bounds but not the store: refused by the enqueue, nothing stored.
    NewMessage lone = base.withHeader("x", "bad \uD800 surrogate");
    assertThatThrownBy(() -> producer(q).enqueueBatch(List.of(NewMessage.of(payload(0)), lone)).block(T))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("header 'x' of message 1");
    assertThat(store.messages().list(q, MessageState.LIVE, 0, 10).collectList().block(T)).isEmpty();
  }

  @Test
  void theProducersTraceContextTravelsWithTheMessageToTheHandlersObservation() {
    String q = newQueue();
    Observation request = Observation.start("http.server.requests", registry);
    long id = producer(q).enqueue(payload(1))
        .contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, request))
        .block(T);
    request.stop();

    SenderContext<?> sent = propagation.senders.poll();
    assertThat(sent).as("the enqueue's observation").isNotNull();
    assertThat(sent.getName()).isEqualTo(PgqrsObservations.ENQUEUE);
    assertThat(sent.getParentObservation()).as("the request is the enqueue's parent").isSameAs(request);
    assertThat(sent.getLowCardinalityKeyValue("messaging.destination.name").getValue()).isEqualTo(q);
    String traceparent = propagation.written.get(sent);
    assertThat(store.messages().get(id).block(T).headers()).containsEntry("traceparent", traceparent);

    Queue<Observation> inHandler = new ConcurrentLinkedQueue<>();
    List<Outcome> outcomes = store.consumer(q).build()
        .handle(m -> Mono.deferContextual(c -> {
          inHandler.add(c.get(ObservationThreadLocalAccessor.KEY));
          return Mono.empty();
        }))
        .take(1).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsExactly(Outcome.Kind.ARCHIVED);
    ReceiverContext<?> received = propagation.receivers.poll();
    assertThat(received).as("the handler's observation").isNotNull();
    assertThat(received.getName()).isEqualTo(PgqrsObservations.HANDLE);
    assertThat(propagation.read.get(received)).as("the context the consumer extracted").isEqualTo(traceparent);
    assertThat(received.getHighCardinalityKeyValue("messaging.message.id").getValue()).isEqualTo(Long.toString(id));
    assertThat(inHandler).singleElement().extracting(Observation::getContext).isSameAs(received);
    assertThat(propagation.stopped).contains(sent, received);
  }

  @Test
  void aHandlersErrorIsRecordedOnItsObservation() {
    String q = newQueue(1);
    producer(q).enqueue(payload(1)).block(T);
    List<Outcome> outcomes = store.consumer(q).build()
        .handle(m -> Mono.error(new IllegalStateException("boom")))
        .take(1).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsExactly(Outcome.Kind.DEAD_LETTERED);
    ReceiverContext<?> received = propagation.receivers.poll();
    assertThat(received).isNotNull();
    assertThat(received.getError()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    assertThat(propagation.stopped).contains(received);
  }

  @Test
  void theApplicationsOwnHeadersWinAndPropagationThatDoesNotFitIsLeftOut() {
    String q = newQueue();
    propagation.extra.put("baggage", "b".repeat(NewMessage.MAX_HEADER_VALUE + 1));
    long id = producer(q).enqueue(NewMessage.of(payload(1)).withHeader("traceparent", "mine")).block(T);
    Map<String, String> stored = store.messages().get(id).block(T).headers();
    assertThat(stored).containsEntry("traceparent", "mine").doesNotContainKey("baggage");
  }

  @Test
  void metersAndObservationsTogetherEachSeeTheWorkAndTheContextStillTravels() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    try (io.pgqrs.metrics.PgqrsMetrics metrics = new io.pgqrs.metrics.PgqrsMetrics(store, Duration.ofHours(1),
        io.micrometer.core.instrument.Tags.empty())) {
      metrics.bindTo(meters);
      String q = newQueue();
      long id = producer(q).enqueue(payload(1)).block(T);
      assertThat(store.messages().get(id).block(T).headers()).containsKey("traceparent");
      List<Outcome> outcomes = store.consumer(q).build().handle(m -> Mono.empty()).take(1).collectList().block(T);
      assertThat(outcomes).extracting(Outcome::kind).containsExactly(Outcome.Kind.ARCHIVED);
      assertThat(meters.find("pgqrs.messages.enqueued").tag("queue", q).counter().count()).isEqualTo(1);
      assertThat(meters.find("pgqrs.handler.duration").tag("queue", q).timer().count()).isEqualTo(1);
      ReceiverContext<?> received = propagation.receivers.poll();
      assertThat(received).isNotNull();
      assertThat(propagation.read.get(received)).isEqualTo(store.messages().get(id).block(T).headers().get("traceparent"));
    }
  }

  @Test
  void afterCloseNothingIsObservedAndNoHeaderIsAdded() {
    observations.close();
    observations.close();
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    assertThat(store.messages().get(id).block(T).headers()).isEmpty();
    assertThat(propagation.senders).isEmpty();
  }

  @Test
  void onlyStoresOpenedByTheLibraryCanBeObserved() {
    assertThatThrownBy(() -> PgqrsObservations.register(null, registry)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> PgqrsObservations.register(store, null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aRunsExecutionIsObservedWithEachStepBodyAsItsChild() {
    Queue<Observation> inSteps = new ConcurrentLinkedQueue<>();
    String name = ("tr" + Math.abs(System.nanoTime() % 100000) + "_" + getClass().getSimpleName().toLowerCase());
    Workflow<String, String> workflow = store.runs().register(Workflows.define(
        name.length() > 50 ? name.substring(0, 50) : name, String.class, String.class,
        (ctx, in) -> ctx.step("one", String.class, () -> Mono.deferContextual(c -> {
              inSteps.add(c.get(ObservationThreadLocalAccessor.KEY));
              return Mono.just(in + "1");
            }))
            .flatMap(one -> ctx.step("two", String.class, () -> Mono.just(one + "2"))))).block(T);
    Observation request = Observation.start("http.server.requests", registry);
    // Triggered before any worker runs: the run goes through the queue and a claim.
    RunHandle<String> queued = workflow.trigger("q")
        .contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, request)).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start();
    try {
      assertThat(queued.result().block(T)).isEqualTo("q12");
      // With the worker idle in this engine: the local fast path.
      RunHandle<String> run = workflow.trigger("a")
          .contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, request)).block(T);
      assertThat(run.result().block(T)).isEqualTo("a12");
      request.stop();
      String wf = workflow.definition().name();
      List<Observation.Context> triggers = propagation.started.stream()
          .filter(c -> PgqrsObservations.TRIGGER.equals(c.getName())).toList();
      assertThat(triggers).hasSize(2).allSatisfy(c -> {
        assertThat(c).isInstanceOf(SenderContext.class);
        assertThat(c.getParentObservation()).isSameAs(request);
      });
      List<Observation.Context> runs = propagation.started.stream()
          .filter(c -> PgqrsObservations.RUN.equals(c.getName())).toList();
      assertThat(runs).hasSize(2).allSatisfy(c -> assertThat(c).isInstanceOf(ReceiverContext.class));
      assertThat(runs).extracting(c -> c.getHighCardinalityKeyValue("pgqrs.run.id").getValue())
          .containsExactly(Long.toString(queued.runId()), Long.toString(run.runId()));
      assertThat(runs).extracting(c -> propagation.read.get(c)).as("each run continues its trigger's trace")
          .containsExactly(propagation.written.get(triggers.get(0)), propagation.written.get(triggers.get(1)));
      Observation.Context runContext = runs.get(1);
      assertThat(runContext.getLowCardinalityKeyValue("pgqrs.workflow").getValue()).isEqualTo(wf);
      List<Observation.Context> steps = propagation.started.stream()
          .filter(c -> PgqrsObservations.STEP.equals(c.getName())).toList();
      assertThat(steps).extracting(c -> c.getHighCardinalityKeyValue("pgqrs.step.id").getValue())
          .containsExactly("one", "two", "one", "two");
      assertThat(steps.subList(0, 2)).allSatisfy(c -> assertThat(c.getParentObservation().getContextView())
          .isSameAs(runs.get(0)));
      assertThat(steps.subList(2, 4)).allSatisfy(c -> assertThat(c.getParentObservation().getContextView())
          .isSameAs(runContext));
      assertThat(inSteps).hasSize(2).last().extracting(Observation::getContext).isSameAs(steps.get(2));
      assertThat(propagation.stopped).contains(runContext, steps.get(2), steps.get(3));
      assertThat(propagation.started).as("a run's execution is not also observed as a handler")
          .noneMatch(c -> PgqrsObservations.HANDLE.equals(c.getName()));
    } finally {
      worker.stop().block(T);
    }
  }

  private static void assertRefused(Supplier<NewMessage> build) {
    assertThatThrownBy(build::get).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("header");
  }

  /** A tracer's propagating handlers in miniature: a fresh traceparent per sender, read back per receiver. */
  private static final class Propagation implements ObservationHandler<Observation.Context> {

    private final AtomicInteger spans = new AtomicInteger();
    final Queue<SenderContext<?>> senders = new ConcurrentLinkedQueue<>();
    final Queue<ReceiverContext<?>> receivers = new ConcurrentLinkedQueue<>();
    final Queue<Observation.Context> stopped = new ConcurrentLinkedQueue<>();
    final Queue<Observation.Context> started = new ConcurrentLinkedQueue<>();
    final Map<Observation.Context, String> written = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<Observation.Context, String> read = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, String> extra = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void onStart(Observation.Context context) {
      started.add(context);
      if (context instanceof SenderContext sender) {
        String value = String.format("00-%032x-%016x-01", spans.incrementAndGet(), 7);
        sender.getSetter().set(sender.getCarrier(), "traceparent", value);
        extra.forEach((k, v) -> sender.getSetter().set(sender.getCarrier(), k, v));
        written.put(context, value);
        senders.add(sender);
      } else if (context instanceof ReceiverContext receiver) {
        String value = receiver.getGetter().get(receiver.getCarrier(), "traceparent");
        if (value != null) {
          read.put(context, value);
        }
        receivers.add(receiver);
      }
    }

    @Override
    public void onStop(Observation.Context context) {
      stopped.add(context);
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
      return true;
    }
  }
}
