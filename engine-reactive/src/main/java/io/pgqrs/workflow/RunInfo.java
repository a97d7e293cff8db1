package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one workflow run.
 *
 * @param id the run id
 * @param workflow the workflow's name
 * @param status the status when read
 * @param input the input, as stored
 * @param output the output of a successful run (JSON {@code null} for an empty result), else null
 * @param error the error of a failed run, or the reason of a cancelled one, else null
 * @param idempotencyKey the key it was triggered with, or null
 * @param attempts how many times a worker has begun executing it (every wake-up counts)
 * @param failures how many times the workflow itself failed and was retried under its policy
 * @param createdAt when it was triggered
 * @param startedAt when a worker first began it, or null
 * @param finishedAt when it finished, or null
 * @param deadline the instant after which it fails with a timeout, or null
 * @param version the version of the definition it was triggered on, or null for an unversioned one;
 *     only workers of that version execute it
 * @param parentRunId the run that started this one as a child ({@link RunContext#child}), or null
 * @param forkedFrom the run this one was forked from ({@link Runs#fork}), or null
 */
public record RunInfo(
    long id,
    String workflow,
    RunStatus status,
    JsonNode input,
    @Nullable JsonNode output,
    @Nullable String error,
    @Nullable String idempotencyKey,
    int attempts,
    int failures,
    Instant createdAt,
    @Nullable Instant startedAt,
    @Nullable Instant finishedAt,
    @Nullable Instant deadline,
    @Nullable String version,
    @Nullable Long parentRunId,
    @Nullable Long forkedFrom) {

  /**
   * A run that was not forked.
   *
   * @param id the run id
   * @param workflow the workflow's name
   * @param status the status
   * @param input the input
   * @param output the output, or null
   * @param error the error, or null
   * @param idempotencyKey the key, or null
   * @param attempts the attempts
   * @param failures the workflow failures
   * @param createdAt when it was triggered
   * @param startedAt when it began, or null
   * @param finishedAt when it finished, or null
   * @param deadline its deadline, or null
   * @param version its definition's version, or null
   * @param parentRunId its parent run, or null
   */
  public RunInfo(long id, String workflow, RunStatus status, JsonNode input, @Nullable JsonNode output,
      @Nullable String error, @Nullable String idempotencyKey, int attempts, int failures, Instant createdAt,
      @Nullable Instant startedAt, @Nullable Instant finishedAt, @Nullable Instant deadline,
      @Nullable String version, @Nullable Long parentRunId) {
    this(id, workflow, status, input, output, error, idempotencyKey, attempts, failures, createdAt, startedAt,
        finishedAt, deadline, version, parentRunId, null);
  }

  /**
   * A run that is nobody's child.
   *
   * @param id the run id
   * @param workflow the workflow's name
   * @param status the status
   * @param input the input
   * @param output the output, or null
   * @param error the error, or null
   * @param idempotencyKey the key, or null
   * @param attempts the attempts
   * @param failures the workflow failures
   * @param createdAt when it was triggered
   * @param startedAt when it began, or null
   * @param finishedAt when it finished, or null
   * @param deadline its deadline, or null
   * @param version its definition's version, or null
   */
  public RunInfo(long id, String workflow, RunStatus status, JsonNode input, @Nullable JsonNode output,
      @Nullable String error, @Nullable String idempotencyKey, int attempts, int failures, Instant createdAt,
      @Nullable Instant startedAt, @Nullable Instant finishedAt, @Nullable Instant deadline,
      @Nullable String version) {
    this(id, workflow, status, input, output, error, idempotencyKey, attempts, failures, createdAt, startedAt,
        finishedAt, deadline, version, null, null);
  }

  /**
   * A run of an unversioned definition.
   *
   * @param id the run id
   * @param workflow the workflow's name
   * @param status the status
   * @param input the input
   * @param output the output, or null
   * @param error the error, or null
   * @param idempotencyKey the key, or null
   * @param attempts the attempts
   * @param failures the workflow failures
   * @param createdAt when it was triggered
   * @param startedAt when it began, or null
   * @param finishedAt when it finished, or null
   * @param deadline its deadline, or null
   */
  public RunInfo(long id, String workflow, RunStatus status, JsonNode input, @Nullable JsonNode output,
      @Nullable String error, @Nullable String idempotencyKey, int attempts, int failures, Instant createdAt,
      @Nullable Instant startedAt, @Nullable Instant finishedAt, @Nullable Instant deadline) {
    this(id, workflow, status, input, output, error, idempotencyKey, attempts, failures, createdAt, startedAt,
        finishedAt, deadline, null);
  }
}
