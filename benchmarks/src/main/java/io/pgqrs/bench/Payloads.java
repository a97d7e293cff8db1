package io.pgqrs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark payload: a JSON object of about 256 bytes when serialized, shaped like a real job
 * (ids, a kind, a few fields, a text body), different per message.
 */
final class Payloads {

  /** The target size of a serialized payload. */
  static final int TARGET_BYTES = 256;

  private Payloads() {}

  /** The payload for message {@code n}. */
  static Map<String, Object> payload(long n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", n);
    m.put("kind", "invoice.created");
    m.put("tenant", "tenant-" + (n % 97));
    m.put("customer", String.format("cust-%08d", n * 7919 % 100_000_000));
    m.put("amount_cents", n * 37 % 100_000);
    m.put("currency", "EUR");
    m.put("tags", List.of("bench", "drain"));
    String head = "{\"n\":" + n + ",\"kind\":\"invoice.created\",\"tenant\":\"tenant-" + (n % 97)
        + "\",\"customer\":\"cust-00000000\",\"amount_cents\":" + (n * 37 % 100_000)
        + ",\"currency\":\"EUR\",\"tags\":[\"bench\",\"drain\"],\"note\":\"\"}";
    int room = Math.max(8, TARGET_BYTES - head.length());
    StringBuilder note = new StringBuilder(room);
    while (note.length() < room) {
      note.append("lorem ipsum dolor sit amet ");
    }
    m.put("note", note.substring(0, room));
    return m;
  }

  /** Payloads {@code from} (inclusive) to {@code to} (exclusive). */
  static List<Object> range(long from, long to) {
    List<Object> out = new ArrayList<>((int) (to - from));
    for (long i = from; i < to; i++) {
      out.add(payload(i));
    }
    return out;
  }

  /** The payload for message {@code n} as JSON text, for peers that store text or bytes. */
  static String json(long n) {
    try {
      return Json.MAPPER.writeValueAsString(payload(n));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
