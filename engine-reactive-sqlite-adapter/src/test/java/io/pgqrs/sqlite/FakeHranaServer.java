package io.pgqrs.sqlite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An in-process Hrana-over-HTTP v2 server with real streams, for the executor's
 * {@link HranaExecutor.Mode#STREAMS} path (what sqld and Turso Cloud speak), which
 * {@code tursodb --sync-server} cannot exercise. Each stream is its own sqlite-jdbc connection to
 * one database file, with no busy timeout: a stream left holding the write lock makes the next
 * transaction fail at once. Batons change with every answer; an unknown baton is an HTTP 400.
 */
final class FakeHranaServer implements BeforeAllCallback, AfterAllCallback {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, Connection> streams = new ConcurrentHashMap<>();
  private final AtomicInteger opened = new AtomicInteger();
  private volatile AnswerGate gate = new AnswerGate("\u0000never");
  private HttpServer server;
  private ExecutorService threads;
  private Path folder;
  private String jdbcUrl;

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  String dsn() {
    return "turso:" + url();
  }

  Store connect() {
    return Pgqrs.connect(dsn()).block(Duration.ofSeconds(30));
  }

  /** Streams open right now (opened and neither closed nor expired). */
  int openStreams() {
    return streams.size();
  }

  /** Streams opened so far. */
  int streamsOpened() {
    return opened.get();
  }

  /**
   * Holds the next pipeline request whose body contains {@code marker}, before running it, until
   * the returned gate is released.
   *
   * @param marker text of the request body, for example a fragment of its SQL
   * @return the gate
   */
  AnswerGate holdAnswerTo(String marker) {
    AnswerGate g = new AnswerGate(marker);
    gate = g;
    return g;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    folder = Files.createTempDirectory("pgqrs-fake-hrana");
    jdbcUrl = "jdbc:sqlite:" + folder.resolve("fake.db");
    server = newHttpServer();
    threads = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "fake-hrana");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(threads);
    server.createContext("/v2/pipeline", this::pipeline);
    server.start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    server.stop(0);
    threads.shutdownNow();
    for (Connection c : streams.values()) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing anyway
      }
    }
    streams.clear();
    try (Stream<Path> files = Files.walk(folder)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (UncheckedIOException ignored) {
      // best effort
    }
  }

  /**
   * A JDK HTTP server on a free loopback port, with TCP_NODELAY: without it every answer waits
   * for a delayed ACK (tens of milliseconds). The JDK reads the setting once, when its first
   * server is made in the JVM, so every test server is made here.
   */
  static HttpServer newHttpServer() throws IOException {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
  }

  private void pipeline(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      gate.pass(new String(body, StandardCharsets.UTF_8));
      JsonNode request = JSON.readTree(body);
      JsonNode baton = request.get("baton");
      Connection stream;
      if (baton == null || baton.isNull()) {
        stream = DriverManager.getConnection(jdbcUrl);
        try (Statement st = stream.createStatement()) {
          st.execute("PRAGMA busy_timeout = 0");
        }
        opened.incrementAndGet();
      } else {
        stream = streams.remove(baton.asText());
        if (stream == null) {
          respond(exchange, 400, "{\"error\":\"Stream handle is invalid or expired\",\"code\":\"STREAM_EXPIRED\"}");
          return;
        }
      }
      ObjectNode answer = JSON.createObjectNode();
      ArrayNode results = JSON.createArrayNode();
      boolean closedStream = false;
      synchronized (stream) {
        for (JsonNode r : request.path("requests")) {
          if (closedStream) {
            results.addObject().put("type", "error").putObject("error").put("message", "stream is closed");
            continue;
          }
          switch (r.path("type").asText()) {
            case "execute" -> results.add(result(() -> ok("execute", execute(stream, r.path("stmt")))));
            case "batch" -> results.add(result(() -> ok("batch", batch(stream, r.path("batch")))));
            case "close" -> {
              closedStream = true;
              stream.close();
              results.addObject().put("type", "ok").putObject("response").put("type", "close");
            }
            default -> results.addObject().put("type", "error").putObject("error")
                .put("message", "unsupported request " + r.path("type").asText());
          }
        }
      }
      if (closedStream) {
        answer.putNull("baton");
      } else {
        String next = UUID.randomUUID().toString();
        streams.put(next, stream);
        answer.put("baton", next);
      }
      answer.putNull("base_url");
      answer.set("results", results);
      respond(exchange, 200, JSON.writeValueAsString(answer));
    } catch (SQLException | RuntimeException e) {
      respond(exchange, 500, "internal error: " + e);
    }
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", status == 200 ? "application/json" : "text/plain");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  @FunctionalInterface
  private interface SqlCall {
    ObjectNode run() throws SQLException;
  }

  private static ObjectNode result(SqlCall call) {
    try {
      return call.run();
    } catch (SQLException e) {
      ObjectNode error = JSON.createObjectNode().put("type", "error");
      error.set("error", error(e));
      return error;
    }
  }

  private static ObjectNode error(SQLException e) {
    return JSON.createObjectNode().put("message", e.getMessage()).put("code", "SQLITE_ERROR");
  }

  private static ObjectNode ok(String type, ObjectNode result) {
    ObjectNode ok = JSON.createObjectNode().put("type", "ok");
    ok.putObject("response").put("type", type).set("result", result);
    return ok;
  }

  private static ObjectNode batch(Connection c, JsonNode batch) {
    ArrayNode results = JSON.createArrayNode();
    ArrayNode errors = JSON.createArrayNode();
    for (JsonNode step : batch.path("steps")) {
      JsonNode condition = step.get("condition");
      if (condition != null && !condition.isNull() && !holds(condition, results, errors)) {
        results.addNull();
        errors.addNull();
        continue;
      }
      try {
        results.add(execute(c, step.path("stmt")));
        errors.addNull();
      } catch (SQLException e) {
        results.addNull();
        errors.add(error(e));
      }
    }
    ObjectNode result = JSON.createObjectNode();
    result.set("step_results", results);
    result.set("step_errors", errors);
    return result;
  }

  private static boolean holds(JsonNode condition, ArrayNode results, ArrayNode errors) {
    return switch (condition.path("type").asText()) {
      case "ok" -> results.path(condition.path("step").asInt()).isObject();
      case "error" -> errors.path(condition.path("step").asInt()).isObject();
      case "not" -> !holds(condition.path("cond"), results, errors);
      case "and" -> {
        boolean all = true;
        for (JsonNode c : condition.path("conds")) {
          all &= holds(c, results, errors);
        }
        yield all;
      }
      case "or" -> {
        boolean any = false;
        for (JsonNode c : condition.path("conds")) {
          any |= holds(c, results, errors);
        }
        yield any;
      }
      default -> throw new IllegalArgumentException("unsupported condition " + condition);
    };
  }

  private static ObjectNode execute(Connection c, JsonNode stmt) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(stmt.path("sql").asText())) {
      int i = 1;
      for (JsonNode arg : stmt.path("args")) {
        switch (arg.path("type").asText()) {
          case "null" -> ps.setNull(i, Types.NULL);
          case "integer" -> ps.setLong(i, Long.parseLong(arg.path("value").asText()));
          case "float" -> ps.setDouble(i, arg.path("value").asDouble());
          case "text" -> ps.setString(i, arg.path("value").asText());
          case "blob" -> ps.setBytes(i, Base64.getDecoder().decode(arg.path("base64").asText()));
          default -> throw new SQLException("unsupported value " + arg);
        }
        i++;
      }
      ObjectNode result = JSON.createObjectNode();
      ArrayNode cols = result.putArray("cols");
      ArrayNode rows = result.putArray("rows");
      long affected = 0;
      if (ps.execute()) {
        try (ResultSet rs = ps.getResultSet()) {
          ResultSetMetaData md = rs.getMetaData();
          for (int col = 1; col <= md.getColumnCount(); col++) {
            cols.addObject().put("name", md.getColumnLabel(col));
          }
          while (rs.next()) {
            ArrayNode row = rows.addArray();
            for (int col = 1; col <= md.getColumnCount(); col++) {
              row.add(value(rs.getObject(col)));
            }
          }
        }
      } else {
        affected = Math.max(0, ps.getUpdateCount());
      }
      result.put("affected_row_count", affected);
      result.putNull("last_insert_rowid");
      return result;
    }
  }

  private static ObjectNode value(Object v) {
    ObjectNode value = JSON.createObjectNode();
    if (v == null) {
      value.put("type", "null");
    } else if (v instanceof Integer || v instanceof Long) {
      value.put("type", "integer").put("value", v.toString());
    } else if (v instanceof Number n) {
      value.put("type", "float").put("value", n.doubleValue());
    } else if (v instanceof byte[] bytes) {
      value.put("type", "blob").put("base64", Base64.getEncoder().encodeToString(bytes));
    } else {
      value.put("type", "text").put("value", v.toString());
    }
    return value;
  }
}
