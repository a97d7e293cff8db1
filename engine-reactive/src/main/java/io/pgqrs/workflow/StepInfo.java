package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one step of a workflow run.
 *
 * @param runId the run
 * @param stepId the step's readable identity within the run: its name, then {@code name#2},
 *     {@code name#3} for later calls of the same name, prefixed by its scope's key and {@code /}
 *     inside {@link RunContext#scope}
 * @param status the status when read
 * @param attempts how many times a worker has begun executing it
 * @param output the recorded output of a successful step (null for an empty one)
 * @param error the last error, or null
 * @param wakeAt when a retry, sleep or signal wait is due, or null
 * @param startedAt when it was first begun
 * @param updatedAt when it last changed
 * @param finishedAt when it was recorded as finished, or null
 * @param position the step's identity in the run, independent of its name: its place in program
 *     order ({@code 1}, {@code 2}, ...), prefixed by its scope's key and {@code /} inside a scope;
 *     null for a step recorded by a version that did not record positions
 */
public record StepInfo(
    long runId,
    String stepId,
    StepStatus status,
    int attempts,
    @Nullable JsonNode output,
    @Nullable String error,
    @Nullable Instant wakeAt,
    Instant startedAt,
    Instant updatedAt,
    @Nullable Instant finishedAt,
    @Nullable String position) {

  /**
   * A step without a recorded position.
   *
   * @param runId the run
   * @param stepId the step
   * @param status the status
   * @param attempts the attempts
   * @param output the output, or null
   * @param error the error, or null
   * @param wakeAt the due time, or null
   * @param startedAt when it was first recorded
   * @param updatedAt when it last changed
   * @param finishedAt when it finished, or null
   */
  public StepInfo(long runId, String stepId, StepStatus status, int attempts, @Nullable JsonNode output,
      @Nullable String error, @Nullable Instant wakeAt, Instant startedAt, Instant updatedAt,
      @Nullable Instant finishedAt) {
    this(runId, stepId, status, attempts, output, error, wakeAt, startedAt, updatedAt, finishedAt, null);
  }
}
