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
