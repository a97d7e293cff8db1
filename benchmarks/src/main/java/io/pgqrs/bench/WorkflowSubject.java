package io.pgqrs.bench;

import reactor.core.publisher.Mono;

/**
 * One durable-workflow engine under test in the {@code workflow} scenario. The scenario calls
 * {@link #setup(WorkflowTarget, int)} once per worker count, drives {@link #run(String)} from as
 * many concurrent callers as there are workers, and closes the subject before the next worker
 * count. Every subject runs the same three-step workflow, defined by {@link #expectedOutput(String)}:
 *
 * <ol>
 *   <li>{@code step-1} returns {@code input + ":1"};
 *   <li>{@code step-2} returns its input with {@code ":2"} appended;
 *   <li>{@code step-3} returns its input with {@code ":3"} appended, which is the run's output.
 * </ol>
 *
 * Each step's result must be recorded durably by the engine, as in production use.
 */
public interface WorkflowSubject extends AutoCloseable {

  /**
   * The subject's name in the JSON ({@code subject}).
   *
   * @return the name
   */
  String name();

  /**
   * Whether this subject can run in this build. An unavailable subject is reported as a cell with
   * {@code "status":"unavailable"} and never measured.
   *
   * @return true if {@link #setup(WorkflowTarget, int)} and {@link #run(String)} work
   */
  default boolean available() {
    return true;
  }

  /**
   * Why the subject is unavailable; only asked when {@link #available()} is false.
   *
   * @return a one-line reason
   */
  default String unavailableReason() {
    return "";
  }

  /**
   * Prepares the subject on a fresh schema: installs its tables, registers the workflow and starts
   * {@code workers} workers (concurrent runs).
   *
   * @param target where to store state
   * @param workers how many runs may execute at once
   * @throws Exception if setting up fails
   */
  void setup(WorkflowTarget target, int workers) throws Exception;

  /**
   * How the subject is configured, for the JSON and the report.
   *
   * @return a one-line description
   */
  String configuration();

  /**
   * Triggers one run of the three-step workflow and completes with its output once the run has
   * finished. Cold: each subscription triggers a new run. Callers measure trigger-to-result
   * latency around it, so it must not complete before the run's output is durable.
   *
   * @param input the run's input
   * @return the run's output, {@link #expectedOutput(String)} of the input
   */
  Mono<String> run(String input);

  /** Stops the workers and releases connections. */
  @Override
  void close();

  /**
   * The output the three-step workflow produces for an input.
   *
   * @param input the run's input
   * @return {@code input + ":1:2:3"}
   */
  static String expectedOutput(String input) {
    return input + ":1:2:3";
  }
}
