package io.pgqrs.bench;

import reactor.core.publisher.Mono;

/**
 * One durable-workflow engine under test in the {@code workflow} and {@code workflow-latency}
 * scenarios. The scenario calls {@link #setup(WorkflowTarget, int, int)} once per cell, drives
 * {@link #run(String)} from as many concurrent callers as there are workers, and closes the subject
 * before the next cell. Every subject runs the same workflow of S steps, defined by
 * {@link #expectedOutput(String, int)}: step {@code step-i} (i from 1 to S) returns its input
 * (the run's input for the first step, the previous step's result after) with {@code ":i"}
 * appended, and the last step's result is the run's output. The {@code workflow} scenario runs
 * three steps, {@code workflow-latency} one.
 *
 * <p>Each step's result must be recorded durably by the engine, as in production use.
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
   * @return true if {@link #setup(WorkflowTarget, int, int)} and {@link #run(String)} work
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
   * @param target where to store state, and the connection pool sizes to use
   * @param workers how many runs may execute at once
   * @param steps how many steps the workflow has, at least 1
   * @throws Exception if setting up fails
   */
  void setup(WorkflowTarget target, int workers, int steps) throws Exception;

  /**
   * How the subject is configured, for the JSON and the report.
   *
   * @return a one-line description
   */
  String configuration();

  /**
   * Triggers one run of the workflow and completes with its output once the run has finished.
   * Cold: each subscription triggers a new run. Callers measure trigger-to-result latency around
   * it, so it must not complete before the run's output is durable.
   *
   * @param input the run's input
   * @return the run's output, {@link #expectedOutput(String, int)} of the input
   */
  Mono<String> run(String input);

  /** Stops the workers and releases connections. */
  @Override
  void close();

  /**
   * The output the workflow of {@code steps} steps produces for an input.
   *
   * @param input the run's input
   * @param steps the number of steps
   * @return {@code input + ":1:2:...:steps"}, {@code input + ":1:2:3"} for three steps
   */
  static String expectedOutput(String input, int steps) {
    StringBuilder sb = new StringBuilder(input);
    for (int i = 1; i <= steps; i++) {
      sb.append(':').append(i);
    }
    return sb.toString();
  }
}
