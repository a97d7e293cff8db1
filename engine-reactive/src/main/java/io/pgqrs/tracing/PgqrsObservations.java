package io.pgqrs.tracing;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.internal.Telemetry;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * Tracing of a store's queues through Micrometer Observation.
 *
 * <p>Once {@linkplain #register registered}, every enqueue (single or batch) of the store's
 * producers is a {@value #ENQUEUE} observation of kind producer, and every execution of a handler
 * given to {@link io.pgqrs.queue.Consumer#handle} or {@code handleDeliveries} is a
 * {@value #HANDLE} observation of kind consumer. Every trigger of a workflow run is a
 * {@value #TRIGGER} observation of kind producer, propagating like an enqueue into the headers
 * of the run's message. Every execution of a workflow run by a worker of
 * the store is a {@value #RUN} observation of kind consumer reading its message's headers, and
 * every execution of a step's body within it a {@value #STEP} observation, the run's child (a
 * replayed step runs no body and is not observed).
 *
 * <p><b>Propagation.</b> The enqueue observation is a {@link SenderContext} whose carrier is the
 * message's headers: a tracing handler (Micrometer Tracing's propagating sender handler, which
 * Spring Boot installs with a tracer bridge) writes the trace context there, for instance a W3C
 * {@code traceparent}, and the engine stores it with every message of the enqueue. The handle
 * observation is a {@link ReceiverContext} reading the delivered message's headers, so the
 * handler's span continues the trace of the request that enqueued it, across processes. A header
 * the application set itself is kept: propagation never overwrites it. A propagated header that
 * does not fit a message's bounds ({@link NewMessage#headers()}) is left out, never failing the
 * enqueue.
 *
 * <p><b>Parents and scope.</b> The enqueue observation's parent is the observation in the
 * subscriber's Reactor context ({@link ObservationThreadLocalAccessor#KEY}, where Spring WebFlux
 * puts the request's) or, failing that, the registry's current one. While the handler runs, its
 * observation is in the handler's Reactor context under the same key, so observations the handler
 * opens are its children.
 *
 * <p>Key values: low cardinality {@code messaging.system=pgqrs}, {@code messaging.operation}
 * ({@code publish} or {@code process}), {@code messaging.destination.name} (the queue); high
 * cardinality {@code messaging.message.id} on a handle and {@code messaging.batch.message_count}
 * on an enqueue. Runs and steps have low cardinality {@code pgqrs.workflow} and high cardinality
 * {@code pgqrs.run.id}, {@code pgqrs.run.attempt}, and for a step {@code pgqrs.step.id} and
 * {@code pgqrs.step.attempt}. An observation stops when its work ends, before the end is passed on (so it is
 * stopped by the time the outcome is reported), with the work's error recorded on it; a cancelled
 * enqueue or handler stops it too.
 */
public final class PgqrsObservations implements AutoCloseable {

  /** The name of an enqueue's observation. */
  public static final String ENQUEUE = "pgqrs.enqueue";

  /** The name of a handler execution's observation. */
  public static final String HANDLE = "pgqrs.handle";

  /** The name of a workflow trigger's observation. */
  public static final String TRIGGER = "pgqrs.trigger";

  /** The name of a workflow run execution's observation. */
  public static final String RUN = "pgqrs.run";

  /** The name of a step body execution's observation. */
  public static final String STEP = "pgqrs.step";

  /** The observations of the runs executing in this engine, by run id: the parents of their steps. */
  private final Map<Long, Observation> runs = new java.util.concurrent.ConcurrentHashMap<>();

  private final ObservationRegistry registry;
  private final AutoCloseable detach;
  private final AtomicBoolean closed = new AtomicBoolean();

  private PgqrsObservations(Engine engine, ObservationRegistry registry) {
    this.registry = registry;
    this.detach = engine.observe(new Observer());
  }

  /**
   * Starts observing the enqueues and handler executions of {@code store} in {@code registry},
   * until {@link #close}. Producers and consumers built before the call are observed too. A
   * {@linkplain ObservationRegistry#NOOP no-op} registry observes nothing at almost no cost.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @param registry the application's observation registry
   * @return the registration; close it to stop observing
   * @throws InvalidArgumentException if the store was not opened by {@code Pgqrs.connect}
   */
  public static PgqrsObservations register(Store store, ObservationRegistry registry) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(registry, "registry");
    if (!(store instanceof Engine engine)) {
      throw new InvalidArgumentException("store", "the store must be one opened by Pgqrs.connect");
    }
    return new PgqrsObservations(engine, registry);
  }

  /** Stops observing; work already observed finishes its observations. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        detach.close();
      } catch (Exception e) {
        throw new IllegalStateException("detaching the observer cannot fail", e);
      }
    }
  }

  private @Nullable Observation parent(ContextView context) {
    Observation inContext = context.getOrDefault(ObservationThreadLocalAccessor.KEY, null);
    return inContext != null ? inContext : registry.getCurrentObservation();
  }

  /** {@code message} with the propagated headers it has room for, its own headers kept. */
  static NewMessage carrying(NewMessage message, Map<String, String> propagated) {
    Map<String, String> headers = fitting(message.headers(), propagated);
    return headers.size() == message.headers().size() ? message : message.withHeaders(headers);
  }

  /**
   * {@code own} plus each propagated header that is not already set and still fits a message's
   * bounds ({@link NewMessage#headers()}): propagation never fails the work it observes.
   */
  static Map<String, String> fitting(Map<String, String> own, Map<String, String> propagated) {
    Map<String, String> merged = new LinkedHashMap<>(own);
    for (Map.Entry<String, String> e : propagated.entrySet()) {
      if (merged.containsKey(e.getKey())) {
        continue;
      }
      merged.put(e.getKey(), e.getValue());
      try {
        PROBE.withHeaders(merged);
      } catch (InvalidArgumentException tooMuch) {
        merged.remove(e.getKey());
      }
    }
    return merged;
  }

  /** A message whose copies check headers against the bounds. */
  private static final NewMessage PROBE = NewMessage.of(Map.of());

  /** A sender observation whose carrier collects the headers its tracing handler propagates. */
  private Observation sent(String name, String contextualName, KeyValues low, ContextView context,
      SenderContext<Map<String, String>> sender) {
    sender.setCarrier(new LinkedHashMap<>());
    sender.setRemoteServiceName("pgqrs");
    return Observation.createNotStarted(name, () -> sender, registry)
        .contextualName(contextualName)
        .lowCardinalityKeyValues(low)
        .parentObservation(parent(context));
  }

  private static SenderContext<Map<String, String>> senderContext() {
    return new SenderContext<>((carrier, key, value) -> {
      if (carrier != null && key != null && value != null) {
        carrier.put(key, value);
      }
    }, Kind.PRODUCER);
  }

  private Observation received(String name, Message message, String contextualName, KeyValues low) {
    ReceiverContext<Message> receiver =
        new ReceiverContext<>((carrier, key) -> carrier == null ? null : carrier.headers().get(key), Kind.CONSUMER);
    receiver.setCarrier(message);
    receiver.setRemoteServiceName("pgqrs");
    return Observation.createNotStarted(name, () -> receiver, registry)
        .contextualName(contextualName)
        .lowCardinalityKeyValues(low);
  }

  /** {@code work} inside {@code observation}: started at subscription, stopped at its end, in its context. */
  private static <T> Mono<T> within(Observation observation, Mono<T> work, @Nullable Runnable ended) {
    return Mono.defer(() -> {
      observation.start();
      Runnable stop = () -> {
        observation.stop();
        if (ended != null) {
          ended.run();
        }
      };
      return work
          .doOnError(observation::error)
          .doOnTerminate(stop)
          .doOnCancel(stop)
          .contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, observation));
    });
  }

  private final class Observer implements Telemetry {

    @Override
    public <T> Mono<T> aroundEnqueue(String queue, List<NewMessage> messages,
        Function<List<NewMessage>, Mono<T>> enqueue) {
      if (registry.isNoop()) {
        return enqueue.apply(messages);
      }
      return Mono.deferContextual(context -> {
        SenderContext<Map<String, String>> sender = senderContext();
        Observation observation = sent(ENQUEUE, queue + " publish", KeyValues.of("messaging.system", "pgqrs",
                "messaging.operation", "publish", "messaging.destination.name", queue), context, sender)
            .highCardinalityKeyValue("messaging.batch.message_count", Integer.toString(messages.size()));
        return within(observation, Mono.defer(() -> {
          Map<String, String> propagated = sender.getCarrier();
          if (propagated == null || propagated.isEmpty()) {
            return enqueue.apply(messages);
          }
          List<NewMessage> carried = new ArrayList<>(messages.size());
          for (NewMessage m : messages) {
            carried.add(carrying(m, propagated));
          }
          return enqueue.apply(carried);
        }), null);
      });
    }

    @Override
    public <T> Mono<T> aroundTrigger(String workflow, Function<Map<String, String>, Mono<T>> trigger) {
      if (registry.isNoop()) {
        return trigger.apply(Map.of());
      }
      return Mono.deferContextual(context -> {
        SenderContext<Map<String, String>> sender = senderContext();
        Observation observation = sent(TRIGGER, workflow + " trigger", KeyValues.of("pgqrs.workflow", workflow),
            context, sender);
        return within(observation, Mono.defer(() -> {
          Map<String, String> propagated = sender.getCarrier();
          return trigger.apply(propagated == null ? Map.of() : fitting(Map.of(), propagated));
        }), null);
      });
    }

    @Override
    public Mono<Void> aroundHandle(String queue, Message message, Mono<Void> handler) {
      if (registry.isNoop()) {
        return handler;
      }
      return Mono.defer(() -> within(received(HANDLE, message, queue + " process",
              KeyValues.of("messaging.system", "pgqrs", "messaging.operation", "process",
                  "messaging.destination.name", queue))
              .highCardinalityKeyValue("messaging.message.id", Long.toString(message.id())),
          handler, null));
    }

    @Override
    public <T> Mono<T> aroundRun(String workflow, long runId, int attempt, Message message, Mono<T> body) {
      if (registry.isNoop()) {
        return body;
      }
      return Mono.defer(() -> {
        Observation run = received(RUN, message, workflow + " run", KeyValues.of("pgqrs.workflow", workflow))
            .highCardinalityKeyValue("pgqrs.run.id", Long.toString(runId))
            .highCardinalityKeyValue("pgqrs.run.attempt", Integer.toString(attempt));
        runs.put(runId, run);
        return within(run, body, () -> runs.remove(runId, run));
      });
    }

    @Override
    public <T> Mono<T> aroundStep(String workflow, long runId, String stepId, int attempt, Mono<T> body) {
      if (registry.isNoop()) {
        return body;
      }
      return Mono.defer(() -> within(Observation.createNotStarted(STEP, registry)
              .contextualName(workflow + " " + stepId)
              .lowCardinalityKeyValue("pgqrs.workflow", workflow)
              .highCardinalityKeyValue("pgqrs.run.id", Long.toString(runId))
              .highCardinalityKeyValue("pgqrs.step.id", stepId)
              .highCardinalityKeyValue("pgqrs.step.attempt", Integer.toString(attempt))
              .parentObservation(runs.get(runId)),
          body, null));
    }
  }
}
