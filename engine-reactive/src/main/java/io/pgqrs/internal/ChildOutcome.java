package io.pgqrs.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.SerializationFailedException;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import org.jspecify.annotations.Nullable;

/**
 * How a child run ended, as its parent records it: {@code {"status": .., "output": ..}} or
 * {@code {"status": .., "error": ..}}. The parent's wait step records this, and the signal that
 * wakes the parent carries it, so the first execution and every replay read the same outcome.
 *
 * @param status SUCCESS, ERROR or CANCELLED
 * @param outputJson the child's output as JSON text, for SUCCESS
 * @param error the child's error or cancel reason, else null
 */
record ChildOutcome(RunStatus status, @Nullable String outputJson, @Nullable String error) {

  /** The outcome of a finished child, as JSON. */
  static String of(RunInfo child) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("status", child.status().name());
    if (child.status() == RunStatus.SUCCESS) {
      node.set("output", child.output() == null ? JsonNodeFactory.instance.nullNode() : child.output());
    } else {
      node.put("error", child.error());
    }
    return node.toString();
  }

  /**
   * The outcome of a child this engine saw finish, as JSON: what its finish wrote, so the same as
   * {@link #of(RunInfo)} of the run read afterwards; empty when the finish carried no status (it
   * ended otherwise, and only the stored run tells how). The output is the stored JSON text, put
   * in as it is rather than parsed again.
   */
  static java.util.Optional<String> of(WorkflowRuntime.Finished finished) {
    RunStatus status = finished.status();
    if (status == null) {
      return java.util.Optional.empty();
    }
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("status", status.name());
    if (status == RunStatus.SUCCESS) {
      String output = finished.outputJson();
      if (output == null) {
        node.putNull("output");
      } else {
        node.putRawValue("output", new com.fasterxml.jackson.databind.util.RawValue(output));
      }
    } else {
      node.put("error", finished.error());
    }
    return java.util.Optional.of(node.toString());
  }

  /** Reads a recorded outcome. */
  static ChildOutcome parse(@Nullable String json, long childRunId) {
    try {
      JsonNode node = Json.parse(json == null ? "null" : json);
      RunStatus status = RunStatus.valueOf(node.path("status").asText());
      JsonNode output = node.get("output");
      JsonNode error = node.get("error");
      return new ChildOutcome(status, output == null ? null : output.toString(),
          error == null || error.isNull() ? null : error.asText());
    } catch (RuntimeException e) {
      throw new SerializationFailedException("the recorded outcome of child run " + childRunId + " is unreadable", e);
    }
  }
}
