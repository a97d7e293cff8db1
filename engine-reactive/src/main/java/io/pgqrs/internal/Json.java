package io.pgqrs.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.pgqrs.StoreOperationException;
import io.pgqrs.queue.ValidationRules;
import java.io.IOException;
import java.nio.CharBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The engine's JSON: the limits within which stored JSON is read back, the mapper the engine uses
 * when the application gives none, and stored-payload parsing.
 *
 * <p>The limits are one source of truth: every reader of stored JSON (the drivers' row mapping,
 * the application's mapper as the engine uses it) reads within {@link #READ_LIMITS}, every writer
 * nests no deeper than it reads, and nothing is stored that {@link #unstorableReason} finds these
 * readers could not read back, or that the store could not keep exactly.
 */
public final class Json {

  /**
   * What the engine reads back: Jackson's default limits, named here so that enqueue validation
   * ({@link ValidationRules}) refuses exactly what the reader would.
   */
  public static final StreamReadConstraints READ_LIMITS = StreamReadConstraints.builder()
      .maxNestingDepth(ValidationRules.MAX_READABLE_DEPTH)
      .maxStringLength(ValidationRules.MAX_READABLE_STRING_LENGTH)
      .build();

  /** Writers nest no deeper than the reader reads; and the limit stops a hostile value early, on a bounded stack. */
  private static final StreamWriteConstraints WRITE_LIMITS = StreamWriteConstraints.builder()
      .maxNestingDepth(ValidationRules.MAX_READABLE_DEPTH)
      .build();

  private static final JsonFactory CHECKER = factory();
  private static final ObjectMapper MAPPER = newMapper();

  private Json() {}

  private static JsonFactory factory() {
    return JsonFactory.builder().streamReadConstraints(READ_LIMITS).streamWriteConstraints(WRITE_LIMITS).build();
  }

  /**
   * A new mapper with Java time support and ISO-8601 dates, within the engine's limits.
   *
   * @return the mapper
   */
  public static ObjectMapper newMapper() {
    return new ObjectMapper(factory())
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  }

  /** The reader of stored JSON, for checks that must read as the drivers do. Thread-safe. */
  static ObjectMapper reader() {
    return MAPPER;
  }

  /**
   * The application's mapper as the engine uses it: a copy with the same configuration whose
   * reading and writing keep within the engine's limits, so it never writes what the engine cannot
   * read back, and a value nested without end fails at the limit instead of overflowing the stack.
   *
   * @param mapper the application's mapper
   * @return a copy within the limits
   */
  public static ObjectMapper withinLimits(ObjectMapper mapper) {
    JsonFactory own = mapper.getFactory();
    return mapper.copyWith(own.rebuild().streamReadConstraints(READ_LIMITS).streamWriteConstraints(WRITE_LIMITS)
        .build());
  }

  /**
   * Why JSON text written by the engine must not be stored, or null when it may: the reader could
   * not read it back (nesting, string, number or name beyond {@link #READ_LIMITS}, or not JSON), or
   * a string or key in it holds text the store cannot keep exactly (see {@link StoredText}). One
   * streaming pass, no tree.
   *
   * @param json the text
   * @return the reason, or null
   */
  public static @Nullable String unstorableReason(String json) {
    try (JsonParser parser = CHECKER.createParser(json)) {
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        if (token == JsonToken.VALUE_STRING || token == JsonToken.FIELD_NAME) {
          CharBuffer text = CharBuffer.wrap(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
          int at = StoredText.unstorableAt(text);
          if (at >= 0) {
            return (token == JsonToken.FIELD_NAME ? "a key" : "a string") + " holds " + StoredText.describe(text, at)
                + ", which the store cannot keep exactly";
          }
        }
      }
      return null;
    } catch (JsonProcessingException e) {
      return "it could not be read back: " + e.getOriginalMessage();
    } catch (IOException e) {
      return "it could not be read back: " + e.getMessage();
    }
  }

  /**
   * Parses stored JSON (a run's input or output, a step's history).
   *
   * @param text JSON text read from the store
   * @return the tree
   * @throws StoreOperationException if the store returned text that is not JSON or that is beyond
   *     the reader's limits
   */
  public static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new StoreOperationException("read payload", "stored payload is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Parses a stored message payload, never failing: a payload that cannot be read back (not JSON,
   * beyond the reader's limits, or not an object: written into the table by something else than
   * this library) becomes an {@link UnreadablePayload}, so that one bad row does not fail the claim or the
   * listing it is in. A claim dead-letters such a message with the reason.
   *
   * @param text the payload column's text
   * @return the tree, or an {@link UnreadablePayload}
   */
  public static JsonNode parsePayload(String text) {
    JsonNode tree;
    try {
      tree = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return new UnreadablePayload(text, "the stored payload cannot be read back: " + e.getOriginalMessage());
    }
    return tree.isObject() ? tree : new UnreadablePayload(text, "the stored payload is not a JSON object");
  }

  /**
   * A message's headers as stored: a JSON object of strings, or null when there are none.
   *
   * @param headers the headers, already checked by {@code NewMessage}
   * @return the JSON text, or null for an empty map
   */
  public static @Nullable String headersJson(java.util.Map<String, String> headers) {
    if (headers.isEmpty()) {
      return null;
    }
    try {
      return MAPPER.writeValueAsString(headers);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings always serializes", e);
    }
  }

  /**
   * A message's stored headers read back, never failing: a column that is null, not a JSON object,
   * or holds values that are not strings (written by something else than this library) gives the
   * entries that can be read as strings, so that one bad row does not fail the claim it is in.
   *
   * @param text the headers column's text, or null
   * @return the headers, empty when none
   */
  public static java.util.Map<String, String> parseHeaders(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return java.util.Map.of();
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return java.util.Map.of();
    }
    if (tree == null || !tree.isObject()) {
      return java.util.Map.of();
    }
    java.util.Map<String, String> out = new java.util.HashMap<>();
    for (java.util.Map.Entry<String, JsonNode> e : tree.properties()) {
      if (e.getValue().isTextual()) {
        out.put(e.getKey(), e.getValue().textValue());
      }
    }
    // Immutable here, so that Message keeps it as it is instead of copying it again.
    return java.util.Map.copyOf(out);
  }

  /**
   * A stored payload that could not be read back: a JSON string holding the stored text as it is,
   * with the reason. A payload the engine stored is always an object, so a string payload is
   * always one of these.
   */
  public static final class UnreadablePayload extends TextNode {

    private static final long serialVersionUID = 1L;

    private final String reason;

    UnreadablePayload(String storedText, String reason) {
      super(storedText);
      this.reason = StoredText.sanitize(reason);
    }

    /**
     * Why the payload could not be read, as recorded when its message is dead-lettered.
     *
     * @return the reason, storable
     */
    public String reason() {
      return reason;
    }
  }
}
