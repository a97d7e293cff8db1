package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one signal sent to a run with {@link Runs#signal} or {@link RunHandle#signal}.
 *
 * @param id the signal's id: unique in the store, growing in the order signals were sent
 * @param runId the run
 * @param name the signal's name
 * @param value the value as stored
 * @param sentAt when it was sent, by the store's clock
 * @param consumedBy the readable identity of the step that took it (as {@link StepInfo#stepId()}
 *     shows it), or null while it waits to be taken
 */
public record SignalInfo(long id, long runId, String name, JsonNode value, Instant sentAt, @Nullable String consumedBy) {

  /**
   * Whether a step of the run has taken this signal.
   *
   * @return true once consumed
   */
  public boolean consumed() {
    return consumedBy != null;
  }
}
