package io.pgqrs.workflow;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * A running worker executing one workflow's runs: a consumer of the workflow's queue (so it wakes
 * on notifications, heartbeats, keeps its message leases alive and shuts down gracefully), where
 * each message is one replay of a run. Started by {@link Builder#start()}.
 */
public interface WorkflowWorker {

  /**
   * Stops the worker: no new runs are taken, runs in flight get the shutdown timeout to reach a
   * step boundary, and the rest are released for another worker. Idempotent.
   *
   * @return completes when stopped
   */
  Mono<Void> stop();

  /**
   * Whether the worker is still running.
   *
   * @return false once stopped, or after its stream ended with an error
   */
  boolean isRunning();

  /** Builds a worker. Reusable: each {@link #start()} starts another worker. */
  interface Builder {

    /**
     * How many runs execute at once. Default 8.
     *
     * @param value 1 to 10,000
     * @return this builder
     */
    Builder concurrency(int value);

    /**
     * How long the worker's claim on a run's message lasts without renewal. Default: the store's
     * lease duration.
     *
     * @param value a positive duration
     * @return this builder
     */
    Builder lease(Duration value);

    /**
     * How often an idle worker looks for due runs when no notification wakes it. Default: the
     * store's poll interval.
     *
     * @param value a positive duration
     * @return this builder
     */
    Builder pollInterval(Duration value);

    /**
     * How long {@link WorkflowWorker#stop()} waits for runs in flight. Default 30 s.
     *
     * @param value zero or more
     * @return this builder
     */
    Builder shutdownTimeout(Duration value);

    /**
     * Starts the worker now (this is not a cold operation: it subscribes at once).
     *
     * @return the running worker
     */
    WorkflowWorker start();
  }
}
