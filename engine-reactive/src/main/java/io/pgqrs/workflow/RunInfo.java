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
    @Nullable Instant deadline) {}
