package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.pgqrs.queue.ValidationException.Rule;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.queue.ValidationRules;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of {@link PayloadValidator}: every rule, its boundaries and the error it reports. */
class PayloadValidatorTest {

  private static final ObjectMapper MAPPER = Json.newMapper();
  private static final String QUEUE = "orders";
  private static final ValidationRules DEFAULTS = ValidationRules.defaults();

  // ---------------------------------------------------------------- helpers and sample payload types

  private static JsonNode json(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("bad test JSON: " + text, e);
    }
  }

  private static String accept(ValidationRules rules, Object payload) {
    return new PayloadValidator(rules, MAPPER).toCheckedJson(QUEUE, 0, payload);
  }

  private static ValidationException reject(ValidationRules rules, int index, Object payload) {
    Throwable thrown = catchThrowable(() -> new PayloadValidator(rules, MAPPER).toCheckedJson(QUEUE, index, payload));
    assertThat(thrown).isInstanceOf(ValidationException.class);
    return (ValidationException) thrown;
  }

  private static ValidationException reject(ValidationRules rules, Object payload) {
    return reject(rules, 0, payload);
  }

  private static int utf8Bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** Nested objects {@code {"n":{"n":...{}}}} with {@code depth} levels (the outer object is level 1). */
  private static ObjectNode nestedObjects(int depth) {
    ObjectNode root = MAPPER.createObjectNode();
    ObjectNode current = root;
    for (int level = 2; level <= depth; level++) {
      current = current.putObject("n");
    }
    return root;
  }

  record Order(String id, int quantity, Instant placedAt) {}

  record Blob(byte[] data) {}

  static final class RawHolder {
    @JsonRawValue
    public String raw;

    RawHolder(String raw) {
      this.raw = raw;
    }
  }

  static final class Code {
    @JsonValue
    public String text() {
      return "code-1";
    }
  }

  enum Color { RED }

  static final class Exploding {
    public String getName() {
      return "fine";
    }

    public String getBoom() {
      throw new IllegalStateException("getter exploded");
    }
  }

  static final class SelfReference {
    public SelfReference getSelf() {
      return this;
    }
  }

  // ---------------------------------------------------------------- every rule, index and message

  static Stream<Arguments> oneCasePerRule() {
    return Stream.of(
        Arguments.of(Rule.NOT_AN_OBJECT, DEFAULTS, 0, "just text"),
        Arguments.of(Rule.MAX_SIZE, DEFAULTS.withMaxBytes(10), 1, json("{\"a\":\"0123456789\"}")),
        Arguments.of(Rule.MAX_DEPTH, DEFAULTS.withMaxDepth(1), 2, json("{\"a\":{}}")),
        Arguments.of(Rule.MAX_STRING_LENGTH, DEFAULTS.withMaxStringLength(3), 3, json("{\"a\":\"abcd\"}")),
        Arguments.of(Rule.FORBIDDEN_KEY, DEFAULTS.withForbiddenKeys(Set.of("password")), 4,
            json("{\"user\":\"u\",\"password\":\"x\"}")),
        Arguments.of(Rule.REQUIRED_KEY, DEFAULTS.withRequiredKeys(Set.of("id")), 5, json("{\"other\":1}")),
        Arguments.of(Rule.UNSTORABLE_TEXT, DEFAULTS, 6, Map.of("k", "nul\u0000")),
        Arguments.of(Rule.NOT_SERIALIZABLE, DEFAULTS, 9_999, new Exploding()));
  }

  @ParameterizedTest(name = "{0} at index {2}")
  @MethodSource("oneCasePerRule")
  void everyRuleIsReportedWithItsIndexQueueAndName(Rule rule, ValidationRules rules, int index, Object payload) {
    ValidationException e = reject(rules, index, payload);

    assertThat(e.rule()).isEqualTo(rule);
    assertThat(e.index()).isEqualTo(index);
    assertThat(e.queue()).isEqualTo(QUEUE);
    assertThat(e.getMessage())
        .contains("payload " + index + " ")
        .contains("'" + QUEUE + "'")
        .contains("[rule " + rule + "]");
  }

  @Test
  void theRuleCasesCoverEveryRule() {
    Set<Rule> covered = oneCasePerRule().map(a -> (Rule) a.get()[0]).collect(Collectors.toSet());

    assertThat(covered).isEqualTo(EnumSet.allOf(Rule.class));
  }

  @Test
  void limitMessagesNameTheLimit() {
    assertThat(reject(DEFAULTS.withMaxBytes(10), json("{\"a\":\"0123456789\"}")).getMessage()).contains("10 bytes");
    assertThat(reject(DEFAULTS.withMaxDepth(2), json("{\"a\":{\"b\":{}}}")).getMessage()).contains("2 levels");
    assertThat(reject(DEFAULTS.withMaxStringLength(3), json("{\"a\":\"abcd\"}")).getMessage())
        .contains("4 characters").contains("limit of 3");
    assertThat(reject(DEFAULTS.withForbiddenKeys(Set.of("password")), json("{\"password\":1}")).getMessage())
        .contains("'password'");
    assertThat(reject(DEFAULTS.withRequiredKeys(Set.of("id")), json("{}")).getMessage()).contains("'id'");
  }

  // ---------------------------------------------------------------- accepted payloads

  @Test
  void jsonNodeObjectIsReturnedAsCompactJson() {
    assertThat(accept(DEFAULTS, json("{ \"a\" : 1, \"b\" : [true, null, \"x\"] }")))
        .isEqualTo("{\"a\":1,\"b\":[true,null,\"x\"]}");
  }

  @Test
  void mapPayloadIsConvertedKeepingItsOrder() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("z", 1);
    map.put("a", List.of("x", 2));
    map.put("m", Map.of("k", "v"));

    assertThat(accept(DEFAULTS, map)).isEqualTo("{\"z\":1,\"a\":[\"x\",2],\"m\":{\"k\":\"v\"}}");
  }

  @Test
  void pojoPayloadIsConvertedWithTheEngineMapperWritingIsoInstants() {
    Order order = new Order("o-1", 2, Instant.parse("2024-05-01T10:15:30Z"));

    assertThat(accept(DEFAULTS, order))
        .isEqualTo("{\"id\":\"o-1\",\"quantity\":2,\"placedAt\":\"2024-05-01T10:15:30Z\"}");
  }

  @Test
  void theGivenMapperIsTheOneUsedForConversion() {
    Map<String, Object> payload = Map.of("at", Instant.parse("2024-05-01T10:15:30Z"));
    PayloadValidator withoutJavaTime = new PayloadValidator(DEFAULTS, new ObjectMapper());

    Throwable thrown = catchThrowable(() -> withoutJavaTime.toCheckedJson(QUEUE, 0, payload));

    assertThat(thrown).isInstanceOf(ValidationException.class);
    assertThat(((ValidationException) thrown).rule()).isEqualTo(Rule.NOT_SERIALIZABLE);
    assertThat(accept(DEFAULTS, payload)).isEqualTo("{\"at\":\"2024-05-01T10:15:30Z\"}");
  }

  @Test
  void validatingDoesNotChangeAJsonNodePayload() {
    ObjectNode payload = (ObjectNode) json("{\"a\":{\"b\":[1,2]}}");
    ObjectNode before = payload.deepCopy();

    accept(DEFAULTS, payload);

    assertThat(payload).isEqualTo(before);
  }

  // ---------------------------------------------------------------- NOT_AN_OBJECT

  static Stream<Arguments> nonObjects() {
    return Stream.of(
        Arguments.of("string", "text"),
        Arguments.of("string holding JSON object text", "{\"a\":1}"),
        Arguments.of("integer", 42),
        Arguments.of("decimal", 3.14),
        Arguments.of("boolean", true),
        Arguments.of("list", List.of(1, 2)),
        Arguments.of("empty list", List.of()),
        Arguments.of("int array", new int[] {1}),
        Arguments.of("null node", NullNode.getInstance()),
        Arguments.of("text node", TextNode.valueOf("x")),
        Arguments.of("array node", MAPPER.createArrayNode().add(1)),
        Arguments.of("instant (serializes to a string)", Instant.parse("2024-01-01T00:00:00Z")),
        Arguments.of("enum (serializes to a string)", Color.RED),
        Arguments.of("POJO with @JsonValue string", new Code()),
        Arguments.of("null", null));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("nonObjects")
  void nonObjectPayloadIsRejectedAsNotAnObject(String description, Object payload) {
    ValidationException e = reject(DEFAULTS, 3, payload);

    assertThat(e.rule()).as(description).isEqualTo(Rule.NOT_AN_OBJECT);
    assertThat(e.index()).isEqualTo(3);
  }

  @Test
  void notAnObjectMessageNamesTheActualType() {
    assertThat(reject(DEFAULTS, List.of(1)).getMessage()).contains("got array");
    assertThat(reject(DEFAULTS, "x").getMessage()).contains("got string");
  }

  // ---------------------------------------------------------------- NOT_SERIALIZABLE

  static Stream<Arguments> unserializables() {
    Map<String, Object> nullKey = new HashMap<>();
    nullKey.put(null, 1);
    ObjectNode treeWithExplodingPojo = MAPPER.createObjectNode();
    treeWithExplodingPojo.putPOJO("x", new Exploding());
    return Stream.of(
        Arguments.of("getter that throws", new Exploding()),
        Arguments.of("self reference", new SelfReference()),
        Arguments.of("map with a null key", nullKey),
        Arguments.of("JsonNode holding a POJO whose getter throws", treeWithExplodingPojo),
        Arguments.of("list holding a POJO whose getter throws", Map.of("items", List.of(new Exploding()))));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("unserializables")
  void unserializablePayloadIsRejectedAsNotSerializable(String description, Object payload) {
    ValidationException e = reject(DEFAULTS, 7, payload);

    assertThat(e.rule()).as(description).isEqualTo(Rule.NOT_SERIALIZABLE);
    assertThat(e.index()).isEqualTo(7);
    assertThat(e.getMessage()).contains("payload 7").contains("[rule NOT_SERIALIZABLE]");
  }

  // ---------------------------------------------------------------- REQUIRED_KEY and FORBIDDEN_KEY

  @Test
  void requiredKeysMustAllBePresentAtTheTopLevel() {
    ValidationRules rules = DEFAULTS.withRequiredKeys(Set.of("id", "type"));

    assertThat(accept(rules, json("{\"id\":1,\"type\":\"t\",\"extra\":true}"))).isNotEmpty();
    ValidationException e = reject(rules, json("{\"id\":1}"));
    assertThat(e.rule()).isEqualTo(Rule.REQUIRED_KEY);
    assertThat(e.getMessage()).contains("'type'");
  }

  @Test
  void requiredKeyNestedBelowTheTopLevelDoesNotCount() {
    ValidationRules rules = DEFAULTS.withRequiredKeys(Set.of("id"));

    assertThat(reject(rules, json("{\"inner\":{\"id\":1}}")).rule()).isEqualTo(Rule.REQUIRED_KEY);
  }

  @Test
  void requiredKeyWithANullValueIsPresent() {
    ValidationRules rules = DEFAULTS.withRequiredKeys(Set.of("id"));

    assertThat(accept(rules, json("{\"id\":null}"))).isEqualTo("{\"id\":null}");
  }

  @Test
  void forbiddenKeyIsOnlyForbiddenAtTheTopLevel() {
    ValidationRules rules = DEFAULTS.withForbiddenKeys(Set.of("password"));

    assertThat(accept(rules, json("{\"inner\":{\"password\":\"x\"}}"))).isNotEmpty();
    assertThat(reject(rules, json("{\"password\":null}")).rule()).isEqualTo(Rule.FORBIDDEN_KEY);
  }

  @Test
  void keyRulesApplyToConvertedPojos() {
    ValidationRules rules = DEFAULTS.withRequiredKeys(Set.of("id")).withForbiddenKeys(Set.of("placedAt"));

    assertThat(reject(rules, new Order("o", 1, Instant.EPOCH)).rule()).isEqualTo(Rule.FORBIDDEN_KEY);
    assertThat(reject(rules, Map.of("quantity", 1)).rule()).isEqualTo(Rule.REQUIRED_KEY);
  }

  // ---------------------------------------------------------------- MAX_SIZE (UTF-8 bytes)

  static Stream<Arguments> sizedPayloads() {
    return Stream.of(
        Arguments.of("ascii", MAPPER.createObjectNode().put("a", "xxxx"), 12),
        Arguments.of("two-byte e-acute", MAPPER.createObjectNode().put("a", "\u00e9"), 10),
        Arguments.of("three-byte euro signs", MAPPER.createObjectNode().put("a", "\u20ac\u20ac"), 14),
        Arguments.of("four-byte emoji", MAPPER.createObjectNode().put("a", "\ud83d\ude00"), 12),
        Arguments.of("multi-byte key", MAPPER.createObjectNode().put("\u65e5\u672c", 1), 12),
        Arguments.of("empty object", MAPPER.createObjectNode(), 2));
  }

  @ParameterizedTest(name = "{0} = {2} bytes")
  @MethodSource("sizedPayloads")
  void payloadOfExactlyMaxBytesIsAccepted(String description, ObjectNode payload, int bytes) {
    String json = accept(DEFAULTS.withMaxBytes(bytes), payload);

    assertThat(utf8Bytes(json)).as(description).isEqualTo(bytes);
  }

  @ParameterizedTest(name = "{0} = {2} bytes")
  @MethodSource("sizedPayloads")
  void payloadOneByteAboveMaxBytesIsRejected(String description, ObjectNode payload, int bytes) {
    ValidationException e = reject(DEFAULTS.withMaxBytes(bytes - 1), 4, payload);

    assertThat(e.rule()).as(description).isEqualTo(Rule.MAX_SIZE);
    assertThat(e.index()).isEqualTo(4);
  }

  @Test
  void multiByteCharactersCountAsBytesNotCharacters() {
    ObjectNode payload = MAPPER.createObjectNode().put("a", "\u00e9\u00e9\u00e9\u00e9");

    assertThat(accept(DEFAULTS, payload)).hasSize(12);
    assertThat(reject(DEFAULTS.withMaxBytes(12), payload).rule()).isEqualTo(Rule.MAX_SIZE);
    assertThat(accept(DEFAULTS.withMaxBytes(16), payload)).isEqualTo("{\"a\":\"\u00e9\u00e9\u00e9\u00e9\"}");
  }

  @Test
  void sizeIsMeasuredOnTheCompactSerializedForm() {
    JsonNode spaced = json("{   \"a\"   :   1   }");

    assertThat(accept(DEFAULTS.withMaxBytes(7), spaced)).isEqualTo("{\"a\":1}");
  }

  // ---------------------------------------------------------------- MAX_DEPTH (payload object is depth 1)

  @ParameterizedTest(name = "{0} has depth {1}")
  @CsvSource(delimiter = '|', value = {
      "{}                                  | 1",
      "{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":true} | 1",
      "{\"a\":{}}                          | 2",
      "{\"a\":[]}                          | 2",
      "{\"a\":[1,\"x\",null]}              | 2",
      "{\"a\":{},\"b\":[],\"c\":{\"d\":1}}     | 2",
      "{\"a\":[[]]}                        | 3",
      "{\"a\":{\"b\":{}}}                  | 3",
      "{\"a\":[{\"b\":[1]}]}               | 4",
      "{\"a\":[1,[2,[3,[4]]]]}             | 5"
  })
  void payloadAtExactlyMaxDepthIsAcceptedAndOneLevelLessIsRejected(String text, int depth) {
    JsonNode payload = json(text);

    assertThat(accept(DEFAULTS.withMaxDepth(depth), payload)).isNotEmpty();
    if (depth > 1) {
      ValidationException e = reject(DEFAULTS.withMaxDepth(depth - 1), 6, payload);
      assertThat(e.rule()).isEqualTo(Rule.MAX_DEPTH);
      assertThat(e.index()).isEqualTo(6);
    }
  }

  @Test
  void emptyObjectIsAcceptedWithMaxDepthOne() {
    assertThat(accept(DEFAULTS.withMaxDepth(1), json("{}"))).isEqualTo("{}");
  }

  @Test
  void nestedEmptyObjectIsRejectedWithMaxDepthOne() {
    assertThat(reject(DEFAULTS.withMaxDepth(1), json("{\"a\":{}}")).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  @Test
  void defaultMaxDepthAllows32LevelsAndRejects33() {
    assertThat(accept(DEFAULTS, nestedObjects(32))).isNotEmpty();
    assertThat(reject(DEFAULTS, nestedObjects(33)).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  @Test
  void veryDeepPayloadIsRejectedWithoutStackOverflow() {
    assertThat(reject(DEFAULTS, nestedObjects(20_000)).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  @Test
  void depthAppliesToConvertedPojosAndMaps() {
    Map<String, Object> nested = Map.of("a", Map.of("b", List.of(Map.of())));

    assertThat(accept(DEFAULTS.withMaxDepth(4), nested)).isEqualTo("{\"a\":{\"b\":[{}]}}");
    assertThat(reject(DEFAULTS.withMaxDepth(3), nested).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  // ---------------------------------------------------------------- MAX_STRING_LENGTH (keys and values)

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "{\"a\":\"abcd\"}",
      "{\"abcd\":1}",
      "{\"a\":[\"abcd\",\"wxyz\"]}",
      "{\"a\":[{\"abcd\":\"abcd\"}]}",
      "{\"a\":1234567890,\"b\":true,\"c\":null,\"d\":12.345678}",
      "{\"a\":\"\u00e9\u00e9\u00e9\u00e9\"}",
      "{\"a\":\"\"}"
  })
  void stringsAndKeysOfAtMostMaxStringLengthAreAccepted(String text) {
    assertThat(accept(DEFAULTS.withMaxStringLength(4), json(text))).isNotEmpty();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "{\"a\":\"abcde\"}",
      "{\"abcde\":1}",
      "{\"a\":[\"ok\",\"abcde\"]}",
      "{\"a\":[[[\"abcde\"]]]}",
      "{\"a\":[{\"abcde\":1}]}",
      "{\"a\":[{\"b\":\"abcde\"}]}",
      "{\"a\":{\"b\":{\"c\":\"abcde\"}}}",
      "{\"a\":{\"abcde\":{}}}",
      "{\"a\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\"}"
  })
  void stringOrKeyLongerThanMaxStringLengthIsRejectedAtAnyNesting(String text) {
    ValidationException e = reject(DEFAULTS.withMaxStringLength(4), 8, json(text));

    assertThat(e.rule()).isEqualTo(Rule.MAX_STRING_LENGTH);
    assertThat(e.index()).isEqualTo(8);
  }

  @Test
  void stringLengthMessageSaysWhetherAKeyOrValueIsTooLong() {
    assertThat(reject(DEFAULTS.withMaxStringLength(4), json("{\"abcde\":1}")).getMessage()).contains("key");
    assertThat(reject(DEFAULTS.withMaxStringLength(4), json("{\"a\":\"abcde\"}")).getMessage())
        .contains("string value");
  }

  @Test
  void stringLengthAppliesToConvertedPojos() {
    assertThat(reject(DEFAULTS.withMaxStringLength(4), new Order("order-1", 1, Instant.EPOCH)).rule())
        .isEqualTo(Rule.MAX_STRING_LENGTH);
  }

  // ---------------------------------------------------------------- leaves the tree walk does not see

  @Test
  void byteArrayPropertyIsSubjectToMaxStringLength() {
    Blob blob = new Blob(new byte[300]);

    assertThat(reject(DEFAULTS.withMaxStringLength(100), blob).rule()).isEqualTo(Rule.MAX_STRING_LENGTH);
  }

  @Test
  void stringInsideAPojoNodeIsSubjectToMaxStringLength() {
    ObjectNode payload = MAPPER.createObjectNode();
    payload.putPOJO("s", "x".repeat(100));

    assertThat(reject(DEFAULTS.withMaxStringLength(10), payload).rule()).isEqualTo(Rule.MAX_STRING_LENGTH);
  }

  @Test
  void nestingInsideAPojoNodeIsSubjectToMaxDepth() {
    ObjectNode payload = MAPPER.createObjectNode();
    payload.putPOJO("deep", Map.of("a", Map.of("b", Map.of("c", Map.of()))));

    assertThat(reject(DEFAULTS.withMaxDepth(2), payload).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  @Test
  void rawValuePropertyIsSubjectToMaxDepth() {
    RawHolder holder = new RawHolder("{\"a\":{\"b\":{\"c\":{}}}}");

    assertThat(reject(DEFAULTS.withMaxDepth(2), holder).rule()).isEqualTo(Rule.MAX_DEPTH);
  }

  @Test
  void rawValuePropertyThatIsNotJsonIsRejected() {
    RawHolder holder = new RawHolder("not json");

    Throwable thrown = catchThrowable(() -> accept(DEFAULTS, holder));

    assertThat(thrown).isInstanceOf(ValidationException.class);
  }
}
