package io.pgqrs.internal;

import io.pgqrs.queue.Outcome;
import io.pgqrs.workflow.RunStatus;
import java.time.Duration;

/**
 * What the engine tells an observer as it works: messages enqueued, claimed and settled, handlers
 * run, workflow runs and steps finished. Called on the engine's own threads (Reactor and store
 * threads) right after the event; an observer records and returns at once, and must not throw.
 * Not API: the metrics binder ({@code io.pgqrs.metrics.PgqrsMetrics}) is the public face.
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
}
