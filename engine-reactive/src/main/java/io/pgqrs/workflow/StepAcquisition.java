package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** What {@link RunExecution#acquireStep} found. */
public sealed interface StepAcquisition {

  /**
   * The caller must execute the step, then record the result.
   *
   * @param stepId the step
   * @param token the run's message lease token, which fences the records
   * @param attempt this execution's number, 1 for the first
   * @param waitRemaining for a sleep or signal wait begun earlier, how much of it remains by the
   *     store's clock when the step was acquired (zero once it is due), else null
   */
  record Execute(String stepId, UUID token, int attempt, @Nullable Duration waitRemaining) implements StepAcquisition {}

  /**
   * The step has a recorded output; do not execute it.
   *
   * @param stepId the step
   * @param output the recorded output, or null for an empty one
   * @param outputType the Java class recorded with it, or null
   */
  record Recorded(String stepId, @Nullable JsonNode output, @Nullable String outputType) implements StepAcquisition {}

  /**
   * The step failed for good; replay its failure.
   *
   * @param stepId the step
   * @param error the recorded error
   * @param attempts how many times it ran
   */
  record Failed(String stepId, String error, int attempts) implements StepAcquisition {}

  /**
   * The step cannot be executed yet: its retry is not due.
   *
   * @param stepId the step
   * @param after how long until it is worth looking again, by the store's clock; park the run for
   *     that long
   */
  record NotDue(String stepId, Duration after) implements StepAcquisition {}

  /**
   * The run must not go on: paused, cancelling, finished or past its deadline.
   *
   * @param status the run's status, or null if it is gone
   * @param timedOut whether its deadline passed
   */
  record Stopped(@Nullable RunStatus status, boolean timedOut) implements StepAcquisition {}
}
