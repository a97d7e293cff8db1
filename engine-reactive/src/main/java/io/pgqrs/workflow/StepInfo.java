package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one step of a workflow run.
 *
 * @param runId the run
 * @param stepId the step's identity within the run: its name, then {@code name#2}, {@code name#3}
 *     for later calls of the same name
 * @param status the status when read
 * @param attempts how many times a worker has begun executing it
 * @param output the recorded output of a successful step (null for an empty one)
 * @param error the last error, or null
 * @param wakeAt when a retry, sleep or signal wait is due, or null
 * @param startedAt when it was first begun
 * @param updatedAt when it last changed
 * @param finishedAt when it was recorded as finished, or null
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
    @Nullable Instant finishedAt) {}
