package io.pgqrs.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.queue.ValidationException.Rule;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.queue.ValidationRules;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;

/** Turns payloads into checked JSON text under a producer's {@link ValidationRules}. */
final class PayloadValidator {

  private final ValidationRules rules;
  private final ObjectMapper mapper;
  private final ObjectMapper parser;

  PayloadValidator(ValidationRules rules, ObjectMapper mapper) {
    this.rules = rules;
    this.mapper = mapper;
    // Depth is checked by us, after parsing; the parser's own nesting limit must not fire first.
    this.parser = new ObjectMapper(JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(Math.max(rules.maxDepth() + 1, StreamReadConstraints.DEFAULT_MAX_DEPTH))
            .maxStringLength(Math.max(rules.maxBytes(), StreamReadConstraints.DEFAULT_MAX_STRING_LEN))
            .build())
        .build());
  }

  /**
   * Converts, checks and serializes one payload.
   *
   * @throws ValidationException naming the index and the rule
   */
  String toCheckedJson(String queue, int index, Object payload) {
    JsonNode tree;
    try {
      tree = payload instanceof JsonNode node ? node : mapper.valueToTree(payload);
    } catch (IllegalArgumentException e) {
      throw fail(queue, index, Rule.NOT_SERIALIZABLE,
          "cannot be serialized to JSON: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw fail(queue, index, Rule.NOT_AN_OBJECT,
          "must be a JSON object, got " + (tree == null ? "null" : tree.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    // Cheap iterative check first: a hostile tree is refused before recursive serialization.
    checkShape(queue, index, tree);
    String json;
    try {
      json = mapper.writeValueAsString(tree);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw fail(queue, index, Rule.NOT_SERIALIZABLE, "cannot be serialized to JSON: " + e.getMessage());
    }
    int bytes = utf8Length(json, rules.maxBytes());
    if (bytes > rules.maxBytes()) {
      throw fail(queue, index, Rule.MAX_SIZE,
          "is larger than " + rules.maxBytes() + " bytes (at least " + bytes + " bytes)");
    }
    // Check the text that will be stored, not the tree: POJO nodes, raw values and binary fields
    // only take their final shape when written.
    JsonNode stored;
    try {
      stored = parser.readTree(json);
    } catch (JsonProcessingException e) {
      throw fail(queue, index, Rule.NOT_SERIALIZABLE, "does not serialize to valid JSON: " + e.getOriginalMessage());
    }
    for (String key : rules.requiredKeys()) {
      if (!stored.has(key)) {
        throw fail(queue, index, Rule.REQUIRED_KEY, "lacks required key '" + key + "'");
      }
    }
    for (String key : rules.forbiddenKeys()) {
      if (stored.has(key)) {
        throw fail(queue, index, Rule.FORBIDDEN_KEY, "has forbidden key '" + key + "'");
      }
    }
    if (hasDeferredContent(tree)) {
      checkShape(queue, index, stored);
    }
    return json;
  }

  /** Whether the tree holds values whose JSON shape is only known once written. */
  private static boolean hasDeferredContent(JsonNode root) {
    Deque<JsonNode> stack = new ArrayDeque<>();
    stack.push(root);
    while (!stack.isEmpty()) {
      JsonNode node = stack.pop();
      if (node.isPojo() || node.isBinary()) {
        return true;
      }
      if (node.isContainerNode()) {
        node.forEach(stack::push);
      }
    }
    return false;
  }

  private record Frame(JsonNode node, int depth) {}

  private void checkShape(String queue, int index, JsonNode root) {
    Deque<Frame> stack = new ArrayDeque<>();
    stack.push(new Frame(root, 1));
    while (!stack.isEmpty()) {
      Frame frame = stack.pop();
      if (frame.depth() > rules.maxDepth()) {
        throw fail(queue, index, Rule.MAX_DEPTH, "nests deeper than " + rules.maxDepth() + " levels");
      }
      JsonNode node = frame.node();
      if (node.isObject()) {
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          checkString(queue, index, field.getKey(), "key");
          visit(queue, index, stack, field.getValue(), frame.depth());
        }
      } else if (node.isArray()) {
        for (JsonNode element : node) {
          visit(queue, index, stack, element, frame.depth());
        }
      }
    }
  }

  private void visit(String queue, int index, Deque<Frame> stack, JsonNode child, int parentDepth) {
    if (child.isContainerNode()) {
      stack.push(new Frame(child, parentDepth + 1));
    } else if (child.isTextual()) {
      checkString(queue, index, child.textValue(), "string value");
    }
  }

  private void checkString(String queue, int index, String value, String what) {
    if (value.length() > rules.maxStringLength()) {
      throw fail(queue, index, Rule.MAX_STRING_LENGTH,
          "has a " + what + " of " + value.length() + " characters, above the limit of " + rules.maxStringLength());
    }
  }

  /** UTF-8 length, stopping early once above {@code limit}. */
  private static int utf8Length(String s, int limit) {
    if (s.length() > limit) {
      return s.length();
    }
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static ValidationException fail(String queue, int index, Rule rule, String what) {
    return new ValidationException(queue, index, rule,
        "payload " + index + " for queue '" + queue + "' " + what + " [rule " + rule + "]");
  }
}
