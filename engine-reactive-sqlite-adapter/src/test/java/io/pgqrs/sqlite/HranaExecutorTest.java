package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgqrs.Pgqrs;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreOperationException;
import io.pgqrs.StoreUnavailableException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** The Hrana executor against a real tursodb server: values, errors, cancellation. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HranaExecutorTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  private HranaProxy proxy;
  private HranaExecutor db;

  @BeforeAll
  void connect() throws Exception {
    // Through a pass-through proxy, which can hold a request in flight for the cancellation tests.
    proxy = new HranaProxy(SERVER.url());
    db = HranaExecutor.connect(proxy.url(), null, "the test database", Duration.ofSeconds(5), T).block(T);
    db.transaction("setup", s -> s.script(List.of(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
            "CREATE TABLE numbers (x INTEGER NOT NULL)",
            "INSERT INTO numbers (x) SELECT value FROM json_each('["
                + IntStream.range(0, 200).mapToObj(Integer::toString).collect(Collectors.joining(",")) + "]')"))
        .thenReturn(true)).block(T);
  }

  @AfterAll
  void close() {
    if (db != null) {
      db.close().block(T);
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  private long count(String name) {
    return db.statements("count", s -> s.query("SELECT count(*) AS n FROM items WHERE name = ?", name))
        .map(rows -> rows.get(0).longValue("n")).block(T);
  }

  // ---------------------------------------------------------------- values

  @Test
  void argumentsAreEncodedAsHranaValues() throws Exception {
    assertThat(JSON.writeValueAsString(HranaExecutor.value(42L))).isEqualTo("{\"type\":\"integer\",\"value\":\"42\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(Long.MIN_VALUE)))
        .isEqualTo("{\"type\":\"integer\",\"value\":\"-9223372036854775808\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(7))).isEqualTo("{\"type\":\"integer\",\"value\":\"7\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(null))).isEqualTo("{\"type\":\"null\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value("x \"y\""))).isEqualTo("{\"type\":\"text\",\"value\":\"x \\\"y\\\"\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(1.5))).isEqualTo("{\"type\":\"float\",\"value\":1.5}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(true))).isEqualTo("{\"type\":\"integer\",\"value\":\"1\"}");
    assertThat(JSON.writeValueAsString(HranaExecutor.value(new byte[] {1, 2})))
        .isEqualTo("{\"type\":\"blob\",\"base64\":\"AQI=\"}");
    assertThatThrownBy(() -> HranaExecutor.value(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HranaExecutor.value(Instant.EPOCH)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resultValuesAreDecoded() throws Exception {
    assertThat(HranaExecutor.decode(json("{\"type\":\"integer\",\"value\":\"9007199254740993\"}")))
        .isEqualTo(9_007_199_254_740_993L);
    assertThat(HranaExecutor.decode(json("{\"type\":\"float\",\"value\":2.5}"))).isEqualTo(2.5);
    assertThat(HranaExecutor.decode(json("{\"type\":\"text\",\"value\":\"h\u00e9\"}"))).isEqualTo("h\u00e9");
    assertThat(HranaExecutor.decode(json("{\"type\":\"null\"}"))).isNull();
    // Turso leaves out the base64 padding.
    assertThat(HranaExecutor.decode(json("{\"type\":\"blob\",\"base64\":\"AQI\"}"))).isEqualTo(new byte[] {1, 2});
  }

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void valuesRoundTripThroughTheServer() {
    SqlRow row = db.statements("round trip", s -> s.query(
            "SELECT ? AS i, ? AS big, ? AS t, ? AS n, ? AS f, ? AS b, typeof(?) AS ti, typeof(?) AS tt",
            42L, Long.MIN_VALUE, "h\u00e9llo \u2603 '\"\\", null, 2.5, new byte[] {0, 1, (byte) 255}, 42L, "42"))
        .block(T).get(0);
    assertThat(row.get("i")).isEqualTo(42L);
    assertThat(row.get("big")).isEqualTo(Long.MIN_VALUE);
    assertThat(row.get("t")).isEqualTo("h\u00e9llo \u2603 '\"\\");
    assertThat(row.get("n")).isNull();
    assertThat(row.get("f")).isEqualTo(2.5);
    assertThat(row.get("b")).isEqualTo(new byte[] {0, 1, (byte) 255});
    assertThat(row.get("ti")).isEqualTo("integer");
    assertThat(row.get("tt")).isEqualTo("text");
  }

  @Test
  void tursodbKeepsNoStreams() {
    assertThat(db.mode()).isEqualTo(HranaExecutor.Mode.SHARED_CONNECTION);
  }

  @Test
  void updateCountsChangedRows() {
    assertThat(db.transaction("insert", s -> s.update("INSERT INTO items (name) VALUES (?), (?), (?)", "u1", "u2", "u3"))
        .block(T)).isEqualTo(3);
    assertThat(db.statements("rename", s -> s.update("UPDATE items SET name = name || '!' WHERE name LIKE 'u_'"))
        .block(T)).isEqualTo(3);
    assertThat(db.statements("rename", s -> s.update("UPDATE items SET name = 'x' WHERE name = 'none'")).block(T))
        .isZero();
  }

  @Test
  void aCommittedTransactionIsVisibleAndItsValueComesAfterTheCommit() {
    Long id = db.transaction("insert", s -> s.query("INSERT INTO items (name) VALUES (?) RETURNING id", "committed")
        .map(rows -> rows.get(0).longValue("id"))).block(T);
    assertThat(id).isPositive();
    assertThat(count("committed")).isEqualTo(1);
  }

  // ---------------------------------------------------------------- errors

  @Test
  void aMissingTableMeansTheSchemaIsNotInstalled() {
    assertThatThrownBy(() -> db.statements("list widgets", s -> s.query("SELECT * FROM widgets")).block(T))
        .isInstanceOf(SchemaNotInstalledException.class)
        .hasMessageContaining("list widgets")
        .hasMessageContaining("no such table");
  }

  @Test
  void anSqlErrorIsAStoreOperationExceptionNamingTheOperation() {
    assertThatThrownBy(() -> db.statements("frobnicate", s -> s.query("SELEC 1")).block(T))
        .isInstanceOfSatisfying(StoreOperationException.class, e -> {
          assertThat(e.operation()).isEqualTo("frobnicate");
          assertThat(e).hasMessageStartingWith("frobnicate: ").hasMessageContaining("syntax error");
        });
  }

  @Test
  void aFailedStatementRollsBackItsTransaction() {
    db.transaction("insert", s -> s.update("INSERT INTO items (name) VALUES ('dup')")).block(T);
    assertThatThrownBy(() -> db.transaction("insert twice", s -> s.update("INSERT INTO items (name) VALUES ('first')")
            .then(s.update("INSERT INTO items (name) VALUES ('dup')"))).block(T))
        .isInstanceOf(StoreOperationException.class)
        .hasMessageContaining("insert twice")
        .hasMessageContaining("UNIQUE");
    assertThat(count("first")).isZero();
    assertThat(db.transaction("after", s -> s.update("INSERT INTO items (name) VALUES ('after failure')")).block(T))
        .isEqualTo(1);
  }

  @Test
  void anUnreachableServerIsUnavailableAndTheTokenStaysSecret() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    assertThatThrownBy(() -> Pgqrs.connect("turso:http://127.0.0.1:" + port + "?auth_token=s3cr3t-t0ken").block(T))
        .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.operation()).isEqualTo("connect"))
        .hasMessageContaining("127.0.0.1:" + port)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t"));
  }

  @Test
  void aServerThatGoesAwayIsUnavailable() throws Exception {
    TursoServer other = new TursoServer();
    other.start();
    HranaExecutor executor;
    try {
      executor = HranaExecutor.connect(other.url(), null, "the other database", Duration.ofSeconds(5), T).block(T);
    } finally {
      other.stop();
    }
    try {
      assertThatThrownBy(() -> executor.transaction("claim", s -> s.query("SELECT 1")).block(T))
          .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.operation()).isEqualTo("claim"))
          .hasMessageContaining("the other database");
    } finally {
      executor.close().block(T);
    }
  }

  @Test
  void theAuthTokenIsSentAsBearerAndARefusalIsReportedWithoutIt() throws Exception {
    AtomicReference<String> authorization = new AtomicReference<>();
    HttpServer refusing = FakeHranaServer.newHttpServer();
    refusing.createContext("/v2/pipeline", exchange -> {
      authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
      exchange.getRequestBody().readAllBytes();
      byte[] body = "{\"error\":\"Unauthorized: invalid token\"}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    refusing.start();
    try {
      String dsn = "turso:http://127.0.0.1:" + refusing.getAddress().getPort() + "?authToken=tok-123";
      assertThatThrownBy(() -> Pgqrs.connect(dsn).block(T))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("auth token")
          .hasMessageContaining("401")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("tok-123"));
      assertThat(authorization.get()).isEqualTo("Bearer tok-123");
    } finally {
      refusing.stop(0);
    }
  }

  // ---------------------------------------------------------------- cancellation

  @Test
  void aCancelledTransactionIsRolledBack() {
    Long result = db.transaction("cancelled", s -> s.update("INSERT INTO items (name) VALUES ('cancelled')")
            .then(Mono.<Long>never()))
        .timeout(Duration.ofMillis(300), Mono.empty())
        .block(T);
    assertThat(result).isNull();
    assertThat(count("cancelled")).isZero();
    assertThat(db.transaction("next", s -> s.update("INSERT INTO items (name) VALUES ('next')")).block(T))
        .isEqualTo(1);
    assertThat(count("next")).isEqualTo(1);
  }

  @Test
  void aTransactionCancelledDuringAStatementIsRolledBackAfterIt() throws Exception {
    CountDownLatch inserted = new CountDownLatch(1);
    AnswerGate slowQuery = proxy.holdAnswerTo("numbers a, numbers b");
    Disposable running = db.transaction("slow", s -> s.update("INSERT INTO items (name) VALUES ('in flight')")
            .doOnNext(n -> inserted.countDown())
            .then(s.query("SELECT count(*) AS n FROM numbers a, numbers b, numbers c")))
        .subscribe();
    assertThat(inserted.await(10, TimeUnit.SECONDS)).isTrue();
    // The query has reached the proxy, which holds it unanswered: it is in flight for certain.
    slowQuery.arrived().block(T);
    running.dispose();
    slowQuery.release();
    assertThat(db.transaction("after cancel", s -> s.update("INSERT INTO items (name) VALUES ('after cancel')"))
        .block(T)).isEqualTo(1);
    assertThat(count("in flight")).isZero();
    assertThat(count("after cancel")).isEqualTo(1);
  }

  @Test
  void unitsCancelledWhileWaitingLeaveTheExecutorUsable() {
    // Many units cancelled while they wait for the slot: none of them may leave anything behind.
    reactor.core.publisher.Flux.range(0, 50)
        .flatMap(i -> db.transaction("queued", s -> s.update("INSERT INTO items (name) VALUES (?)", "queued " + i))
            .timeout(Duration.ofNanos(1), Mono.empty()), 16)
        .then()
        .block(T);
    assertThat(db.transaction("works", s -> s.update("INSERT INTO items (name) VALUES ('still works')")).block(T))
        .isEqualTo(1);
  }
}
