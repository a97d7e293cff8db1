package io.pgqrs.bench.jmh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.internal.Json;
import io.pgqrs.queue.ValidationRules;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Enqueue's in-process work per payload (~256 bytes of JSON): plain Jackson serialization as the
 * baseline, and the engine's convert-validate-serialize path for a {@code Map} and for a
 * {@code JsonNode}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PayloadBenchmarks {

  private ObjectMapper mapper = Json.newMapper();
  private Map<String, Object> map = Map.of();
  private JsonNode tree = mapper.createObjectNode();
  private Object validator = new Object();

  /** Builds the payloads and the validator. */
  @Setup
  public void setup() {
    mapper = Json.newMapper();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", 42);
    m.put("kind", "invoice.created");
    m.put("tenant", "tenant-42");
    m.put("customer", "cust-00332598");
    m.put("amount_cents", 1554);
    m.put("currency", "EUR");
    m.put("tags", List.of("bench", "drain"));
    m.put("note", "lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet "
        + "lorem ipsum dolor sit amet lorem ipsum dolor");
    map = m;
    tree = mapper.valueToTree(m);
    validator = EngineInternals.validator(ValidationRules.defaults(), mapper);
  }

  /**
   * Baseline: Jackson writes the map.
   *
   * @return the JSON text
   * @throws JsonProcessingException never
   */
  @Benchmark
  public String jacksonWriteMap() throws JsonProcessingException {
    return mapper.writeValueAsString(map);
  }

  /**
   * The engine's path for a map payload: to a tree, checked against the default rules, written.
   *
   * @return the JSON text
   */
  @Benchmark
  public String validateAndSerializeMap() {
    return EngineInternals.toCheckedJson(validator, map);
  }

  /**
   * The engine's path for a {@code JsonNode} payload: checked, written.
   *
   * @return the JSON text
   */
  @Benchmark
  public String validateAndSerializeTree() {
    return EngineInternals.toCheckedJson(validator, tree);
  }
}
