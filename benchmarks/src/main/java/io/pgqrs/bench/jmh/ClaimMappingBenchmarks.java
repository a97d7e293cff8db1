package io.pgqrs.bench.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.internal.Json;
import io.pgqrs.queue.Message;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The claim result mapping: one claimed row (as the PostgreSQL driver hands it over, values
 * already decoded) to a {@link Message}, payload parsed into a {@code JsonNode}; and the payload
 * parse alone as the baseline.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ClaimMappingBenchmarks {

  private Row row = new MapRow(Map.of());
  private String payload = "{}";

  /** A row backed by a map of decoded column values. */
  static final class MapRow implements Row {
    private final Map<String, Object> values;

    MapRow(Map<String, Object> values) {
      this.values = values;
    }

    @Override
    public RowMetadata getMetadata() {
      throw new UnsupportedOperationException("not needed by the mapping");
    }

    @Override
    public <T> @Nullable T get(int index, Class<T> type) {
      throw new UnsupportedOperationException("the mapping reads columns by name");
    }

    @Override
    public <T> @Nullable T get(String name, Class<T> type) {
      Object v = values.get(name);
      return v == null ? null : type.cast(v);
    }
  }

  /** Builds a claimed row with a ~256-byte payload. */
  @Setup
  public void setup() {
    payload = "{\"n\":42,\"kind\":\"invoice.created\",\"tenant\":\"tenant-42\",\"customer\":\"cust-00332598\","
        + "\"amount_cents\":1554,\"currency\":\"EUR\",\"tags\":[\"bench\",\"drain\"],\"note\":\"lorem ipsum "
        + "dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet\"}";
    Instant now = Instant.now();
    Map<String, Object> v = new HashMap<>();
    v.put("kind", "c");
    v.put("id", 123_456L);
    v.put("queue", "emails");
    v.put("payload", payload);
    v.put("state", "live");
    v.put("priority", 0);
    v.put("attempts", 1);
    v.put("enqueued_at", now);
    v.put("visible_at", now.plusSeconds(30));
    v.put("lease_token", UUID.randomUUID());
    row = new MapRow(v);
  }

  /**
   * The engine's row-to-message mapping.
   *
   * @return the message
   */
  @Benchmark
  public Message mapClaimedRow() {
    return EngineInternals.message(row);
  }

  /**
   * Baseline: parsing the payload text alone.
   *
   * @return the tree
   */
  @Benchmark
  public JsonNode parsePayload() {
    return Json.parse(payload);
  }
}
