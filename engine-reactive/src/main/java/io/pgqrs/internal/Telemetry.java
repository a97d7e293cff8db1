package io.pgqrs.internal;

import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Outcome;
import io.pgqrs.workflow.RunStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * What the engine tells an observer as it works: messages enqueued, claimed and settled, handlers
 * run, workflow runs and steps finished. Called on the engine's own threads (Reactor and store
 * threads) right after the event; an observer records and returns at once, and must not throw.
 * The {@code around*} methods wrap a unit of work instead (an enqueue, a handler execution) so a
 * tracer can open a span around it and carry its context with the message; they default to
 * running the work as it is.
 * Not API: the metrics binder ({@code io.pgqrs.metrics.PgqrsMetrics}) and the tracing binder
 * ({@code io.pgqrs.tracing.PgqrsObservations}) are the public faces.
 */
public interface Telemetry {

  /** Observes nothing. */
  Telemetry NONE = new Telemetry() {};

  /** How a delivery was settled through its own methods. */
  enum Settled {
    ARCHIVED, DELETED, RETRIED, DEAD_LETTERED
  }

  /** Messages newly stored on a queue by a producer (duplicates a dedup key merged are not counted). */
  default void enqueued(String queue, int count) {}

  /** One message leased to a consumer of this engine, by a claim or by a trigger taking its run. */
  default void claimed(String queue) {}

  /** A delivery was settled as {@code how}. */
  default void settled(String queue, Settled how) {}

  /** A delivery's settle found its lease gone: someone else may hold the message now. */
  default void leaseLost(String queue) {}

  /**
   * A handler began on a message for the first time, {@code sinceEnqueued} after its enqueue by the
   * store's clock at enqueue and the JVM's now (never negative).
   */
  default void handlerStarted(String queue, Duration sinceEnqueued) {}

  /** A handler's message got its outcome, {@code took} after the handler began. */
  default void handled(String queue, Outcome.Kind outcome, Duration took) {}

  /** A run began its first execution in this engine. */
  default void runStarted(String workflow) {}

  /** A run ended with {@code status} in this engine, {@code sinceCreated} after it was triggered. */
  default void runFinished(String workflow, RunStatus status, Duration sinceCreated) {}

  /** A step's body ended and its record was written: {@code outcome} is success, error or retry. */
  default void stepFinished(String workflow, String outcome, Duration took) {}

  /**
   * Wraps one enqueue (a single message or a batch) on {@code queue}: returns the work to subscribe
   * in its place, which must call {@code enqueue} exactly once per subscription, with the messages
   * or copies of them (headers added, say), and pass its result and errors through.
   */
  default <T> Mono<T> aroundEnqueue(String queue, List<NewMessage> messages,
      Function<List<NewMessage>, Mono<T>> enqueue) {
    return enqueue.apply(messages);
  }

  /**
   * Wraps one handler execution on {@code message} of {@code queue}: returns the work to subscribe
   * in its place, which must subscribe {@code handler} once and pass its signals through.
   */
  default Mono<Void> aroundHandle(String queue, Message message, Mono<Void> handler) {
    return handler;
  }

  /**
   * Wraps one execution of run {@code runId} of {@code workflow} (the attempt {@code attempt}),
   * whose message is {@code message}: returns the work to subscribe in its place, which must
   * subscribe {@code body} once and pass its signals through.
   */
  default <T> Mono<T> aroundRun(String workflow, long runId, int attempt, Message message, Mono<T> body) {
    return body;
  }

  /**
   * Wraps one execution of the body of step {@code stepId} of run {@code runId} (its attempt
   * {@code attempt}): returns the work to subscribe in its place, which must subscribe {@code body}
   * once and pass its signals through. Called between the {@link #aroundRun} of the run's
   * execution and its end.
   */
  default <T> Mono<T> aroundStep(String workflow, long runId, String stepId, int attempt, Mono<T> body) {
    return body;
  }

  /**
   * Wraps one trigger of a run of {@code workflow}: returns the work to subscribe in its place,
   * which must call {@code trigger} exactly once per subscription with the headers to store on the
   * run's message (empty for none, within {@link NewMessage#headers()}'s bounds) and pass its result
   * and errors through.
   */
  default <T> Mono<T> aroundTrigger(String workflow, Function<Map<String, String>, Mono<T>> trigger) {
    return trigger.apply(Map.of());
  }
}
