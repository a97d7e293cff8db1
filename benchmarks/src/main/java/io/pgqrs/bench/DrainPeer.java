package io.pgqrs.bench;

/**
 * A peer job system draining the same backlog as pgqrs on the same PostgreSQL, in its own schema,
 * configured for throughput as its documentation recommends. Each peer is timed from its first
 * job execution (its start-up excluded) until its own storage says every job is done.
 */
interface DrainPeer extends AutoCloseable {

  /** What one drain measured. */
  record Run(long messages, long nanos) {}

  /** The name used in the JSON ({@code subject}). */
  String name();

  /** How the peer is configured for {@code consumers} workers, for the JSON and the report. */
  String configuration(int consumers);

  /** Inserts {@code messages} jobs carrying the benchmark payload, through the peer's own API. */
  void prefill(long messages);

  /**
   * Starts the peer with {@code consumers} worker threads, waits until all {@code messages} jobs
   * are done (or the time limit passes), stops it and reports.
   */
  Run drain(int consumers, long messages) throws InterruptedException;

  @Override
  void close();

  static DrainPeer create(String name, Target target, int maxConsumers) {
    return switch (name) {
      case "db-scheduler" -> new DbSchedulerPeer(target, maxConsumers);
      case "jobrunr" -> new JobRunrPeer(target, maxConsumers);
      default -> throw new IllegalArgumentException("unknown peer '" + name + "' (known: db-scheduler, jobrunr)");
    };
  }
}
