package io.pgqrs.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
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
import org.jspecify.annotations.Nullable;

/**
 * Turns payloads into checked JSON text under a producer's {@link ValidationRules}: the text
 * stored is the text checked, read back within the engine's reader limits (see {@link Json}), so
 * nothing is enqueued that a consumer could not read.
 */
final class PayloadValidator {

  private final ValidationRules rules;
  private final ObjectMapper mapper;
  private final ObjectMapper reader;

  /**
   * A validator.
   *
   * @param rules the producer's rules
   * @param mapper the engine's mapper (see {@link Json#withinLimits}): its writer stops a value
   *     nested without end at the reader's depth, before the stack overflows
   */
  PayloadValidator(ValidationRules rules, ObjectMapper mapper) {
    this.rules = rules;
    this.mapper = mapper;
    this.reader = Json.reader();
  }

  /**
   * Converts, checks and serializes one payload.
   *
   * @throws ValidationException naming the index and the rule
   */
  String toCheckedJson(String queue, int index, Object payload) {
    if (payload instanceof JsonNode node && !node.isObject()) {
      throw notAnObject(queue, index, node);
    }
    String json;
    try {
      // Straight to text: a tree built first (valueToTree) would recurse without any depth limit.
      json = mapper.writeValueAsString(payload);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      if (causedByLimit(e)) {
        // Writers are bounded by nesting depth only.
        throw fail(queue, index, Rule.MAX_DEPTH, "nests deeper than " + rules.maxDepth() + " levels");
      }
      throw fail(queue, index, Rule.NOT_SERIALIZABLE, "cannot be serialized to JSON: " + message(e));
    }
    int bytes = utf8Length(json, rules.maxBytes());
    if (bytes > rules.maxBytes()) {
      throw fail(queue, index, Rule.MAX_SIZE,
          "is larger than " + rules.maxBytes() + " bytes (at least " + bytes + " bytes)");
    }
    // Check the text that will be stored, as a consumer will read it: POJO nodes, raw values and
    // binary fields only take their final shape when written.
    JsonNode stored;
    try {
      stored = reader.readTree(json);
    } catch (JsonProcessingException e) {
      throw fail(queue, index, Rule.NOT_SERIALIZABLE, "cannot be read back: " + e.getOriginalMessage());
    }
    if (stored == null || !stored.isObject()) {
      throw notAnObject(queue, index, stored);
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
    checkShape(queue, index, stored);
    return json;
  }

  private static boolean causedByLimit(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof StreamConstraintsException) {
        return true;
      }
    }
    return false;
  }

  private static String message(Exception e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(e.getMessage());
  }

  private static ValidationException notAnObject(String queue, int index, @Nullable JsonNode tree) {
    return fail(queue, index, Rule.NOT_AN_OBJECT,
        "must be a JSON object, got " + (tree == null ? "null" : tree.getNodeType().name().toLowerCase(Locale.ROOT)));
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
    int at = StoredText.unstorableAt(value);
    if (at >= 0) {
      throw fail(queue, index, Rule.UNSTORABLE_TEXT, "has a " + what + " holding " + StoredText.describe(value, at)
          + ", which the store cannot keep exactly");
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
