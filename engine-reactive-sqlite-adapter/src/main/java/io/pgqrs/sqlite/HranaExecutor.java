package io.pgqrs.sqlite;

import static io.pgqrs.sqlite.SqliteSql.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.pgqrs.PgqrsException;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.StoreOperationException;
import io.pgqrs.StoreUnavailableException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolBuilder;
import reactor.pool.PoolShutdownException;

/**
 * The Turso executor: the Hrana protocol over HTTP ({@code POST /v2/pipeline}, JSON) on
 * reactor-netty, non-blocking end to end.
 *
 * <p>Units of work take a one-slot reactor-pool in FIFO order, as in {@link JdbcExecutor}: the
 * server has one writer. Every pipeline request of this executor goes through one FIFO lane, one
 * request at a time, so the requests a cancelled unit still owes (its in-flight statement, then its
 * rollback) always reach the server before the next unit's first request. An in-flight request is
 * never aborted by a cancellation: its answer is awaited, so the stream stays usable for the
 * rollback.
 *
 * <p>Each request is one Hrana {@code batch} whose steps are chained by {@code ok} conditions: a
 * transaction's {@code BEGIN IMMEDIATE} rides with its first statement (a statement never runs if
 * BEGIN failed), {@code update} reads {@code changes()} after its statement in the same request
 * (servers need not fill {@code affected_row_count}: {@code tursodb --sync-server} leaves it 0),
 * and a failed COMMIT is rolled back in its own request.
 *
 * <p>Two kinds of servers, told apart at connect time by whether the answer to an unclosed stream
 * carries a baton:
 *
 * <ul>
 *   <li>{@link Mode#STREAMS} (sqld, Turso Cloud): a transaction runs on its own stream, named by the
 *       baton of each answer and closed with its COMMIT or ROLLBACK; every other request opens and
 *       closes a stream of its own.
 *   <li>{@link Mode#SHARED_CONNECTION} ({@code tursodb --sync-server}): no batons and no
 *       {@code close} request; the server runs every request on its one connection, so an
 *       interactive transaction spans requests by itself. Another client writing to the same
 *       server at the same time would run inside this executor's transactions: give such a server
 *       one pgqrs store.
 * </ul>
 */
final class HranaExecutor implements SqlExecutor {

  /** How long one pipeline request may wait for its answer unless told otherwise. */
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger OPENED = new AtomicInteger();
  private static final String PIPELINE = "/v2/pipeline";
  private static final Object[] NO_ARGS = new Object[0];

  /** How the server keeps state between two pipeline requests. */
  enum Mode {
    /** Batons name server-side streams; a transaction has a stream of its own. */
    STREAMS,
    /** No batons: every request runs on the server's one connection. */
    SHARED_CONNECTION
  }

  private final HttpClient http;
  private final ConnectionProvider connections;
  private final String baseUrl;
  private final String where;
  private final Mode mode;
  private final InstrumentedPool<Boolean> slot;
  private final Queue<Call<?>> lane = new ConcurrentLinkedQueue<>();
  private final AtomicInteger laneWork = new AtomicInteger();
  private volatile boolean laneBusy;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * {@link Mode#SHARED_CONNECTION} only: a transaction of this executor may still be open on the
   * server (a request of it failed in transit), so the next request rolls back first. Touched
   * only by the lane.
   */
  private boolean leftoverTransaction;

  private HranaExecutor(HttpClient http, ConnectionProvider connections, String baseUrl, String where, Mode mode) {
    this.http = http;
    this.connections = connections;
    this.baseUrl = baseUrl;
    this.where = where;
    this.mode = mode;
    this.slot = PoolBuilder.from(Mono.just(Boolean.TRUE)).sizeBetween(0, 1).buildPool();
  }

  /**
   * Connects to a Hrana server: runs {@code SELECT 1} and finds out how the server keeps streams.
   * Cold. Fails with {@link StoreUnavailableException} if the server does not answer it.
   *
   * @param baseUrl {@code http(s)://host:port[/prefix]}, without a trailing slash
   * @param authToken sent as {@code Authorization: Bearer}; null for none
   * @param where a description of the database for messages, without secrets
   * @param connectTimeout TCP connect timeout; the whole check may take three times as long
   * @param requestTimeout how long one request may wait for its answer
   */
  static Mono<HranaExecutor> connect(String baseUrl, @Nullable String authToken, String where,
      Duration connectTimeout, Duration requestTimeout) {
    return Mono.defer(() -> {
      ConnectionProvider connections = ConnectionProvider.builder("pgqrs-turso-" + OPENED.incrementAndGet())
          .maxConnections(2)
          .maxIdleTime(Duration.ofSeconds(20))
          .pendingAcquireTimeout(connectTimeout.plus(requestTimeout))
          .build();
      HttpClient http = HttpClient.create(connections)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
          .responseTimeout(requestTimeout)
          // A POST that reached the server must not be sent twice.
          .disableRetry(true)
          .headers(h -> {
            h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            if (authToken != null) {
              h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + authToken);
            }
          });
      return probe(http, baseUrl)
          .timeout(connectTimeout.multipliedBy(3))
          .map(mode -> new HranaExecutor(http, connections, baseUrl, where, mode))
          .onErrorResume(e -> connections.disposeLater().onErrorResume(ignored -> Mono.empty())
              .then(Mono.error(new StoreUnavailableException("connect",
                  "connect: cannot use the Turso database at " + where + ": " + describe(e), e))));
    });
  }

  /** How the server keeps state between requests. */
  Mode mode() {
    return mode;
  }

  private static Mono<Mode> probe(HttpClient http, String baseUrl) {
    ObjectNode body = JSON.createObjectNode();
    body.putNull("baton");
    body.putArray("requests").add(execute(sql("ping")));
    return post(http, baseUrl, body).flatMap(answer -> {
      JsonNode result = answer.results().path(0);
      if (!"ok".equals(result.path("type").asText())) {
        return Mono.error(new IOException("the connection check failed: " + errorMessage(result.path("error"))));
      }
      String baton = textOrNull(answer.json().get("baton"));
      if (baton == null) {
        return Mono.just(Mode.SHARED_CONNECTION);
      }
      ObjectNode close = JSON.createObjectNode();
      close.put("baton", baton);
      close.putArray("requests").addObject().put("type", "close");
      String streamUrl = textOrNull(answer.json().get("base_url"));
      return post(http, streamUrl != null ? trimSlash(streamUrl) : baseUrl, close)
          .onErrorResume(e -> Mono.empty())
          .thenReturn(Mode.STREAMS);
    });
  }

  // ---------------------------------------------------------------- units of work

  @Override
  public <T> Mono<T> transaction(String operation, Function<SqlSession, Mono<T>> work) {
    return slot.withPoolable(ignored -> Flux.usingWhen(
                Mono.fromSupplier(() -> new Session(operation, true)),
                work,
                s -> s.end(true),
                (s, error) -> s.end(false),
                s -> s.end(false)))
        .singleOrEmpty()
        .onErrorMap(PoolShutdownException.class, e -> closedError(operation, e));
  }

  @Override
  public <T> Mono<T> statements(String operation, Function<SqlSession, Mono<T>> work) {
    return slot.withPoolable(ignored -> Mono.defer(() -> work.apply(new Session(operation, false))))
        .singleOrEmpty()
        .onErrorMap(PoolShutdownException.class, e -> closedError(operation, e));
  }

  private static StoreUnavailableException closedError(String operation, @Nullable Throwable cause) {
    return new StoreUnavailableException(operation, operation + ": the store is closed", cause);
  }

  @Override
  public Mono<Void> close() {
    return Mono.defer(() -> {
      if (!closed.compareAndSet(false, true)) {
        return Mono.empty();
      }
      return slot.disposeLater()
          .onErrorResume(e -> Mono.empty())
          .then(connections.disposeLater())
          .onErrorResume(e -> Mono.empty());
    });
  }

  /**
   * The statements of one unit of work. Its stream state is touched only by the lane, one request
   * at a time.
   */
  private final class Session implements SqlSession {
    private final String operation;
    private final boolean transactional;
    /** Whether a request of this session was sent; a transaction's first one carries BEGIN. */
    private boolean started;
    /** Whether BEGIN succeeded and neither COMMIT nor ROLLBACK ran since. */
    private boolean inTransaction;
    /** Whether the stream is gone (a request failed in transit, or the server closed it). */
    private boolean lost;
    /** {@link Mode#STREAMS}: the baton of the transaction's stream, and where to send it. */
    private @Nullable String baton;
    private @Nullable String streamUrl;

    Session(String operation, boolean transactional) {
      this.operation = operation;
      this.transactional = transactional;
    }

    @Override
    public Mono<List<SqlRow>> query(String sql, @Nullable Object... args) {
      return submit(Kind.QUERY, List.of(sql), args);
    }

    @Override
    public Mono<Long> update(String sql, @Nullable Object... args) {
      return submit(Kind.UPDATE, List.of(sql), args);
    }

    @Override
    public Mono<Void> script(List<String> statements) {
      return statements.isEmpty() ? Mono.empty() : submit(Kind.SCRIPT, List.copyOf(statements), NO_ARGS).then();
    }

    /** Commits or rolls back; a rollback never fails. Sends nothing if there is nothing to end. */
    Mono<Void> end(boolean commit) {
      Mono<Object> ending = submit(commit ? Kind.COMMIT : Kind.ROLLBACK, List.of(), NO_ARGS);
      return commit ? ending.then() : ending.onErrorResume(e -> Mono.empty()).then();
    }

    private <R> Mono<R> submit(Kind kind, List<String> sql, @Nullable Object[] args) {
      return Mono.create(sink -> {
        Call<R> call = new Call<>(this, kind, sql, args, sink);
        sink.onCancel(() -> call.cancelled = true);
        if (closed.get()) {
          sink.error(closedError(operation, null));
          return;
        }
        lane.add(call);
        drainLane();
      });
    }
  }

  private enum Kind { QUERY, UPDATE, SCRIPT, COMMIT, ROLLBACK }

  /** One pipeline request of a session, sent when its turn in the lane comes. */
  private static final class Call<R> {
    final Session session;
    final Kind kind;
    final List<String> sql;
    final @Nullable Object[] args;
    final MonoSink<R> sink;
    volatile boolean cancelled;

    Call(Session session, Kind kind, List<String> sql, @Nullable Object[] args, MonoSink<R> sink) {
      this.session = session;
      this.kind = kind;
      this.sql = sql;
      this.args = args;
      this.sink = sink;
    }

    boolean ends() {
      return kind == Kind.COMMIT || kind == Kind.ROLLBACK;
    }

    @SuppressWarnings("unchecked")
    void complete(@Nullable Object value) {
      if (value == null) {
        sink.success();
      } else {
        sink.success((R) value);
      }
    }
  }

  // ---------------------------------------------------------------- the lane

  private void drainLane() {
    if (laneWork.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    while (true) {
      while (!laneBusy) {
        Call<?> call = lane.poll();
        if (call == null) {
          break;
        }
        laneBusy = true;
        run(call);
      }
      missed = laneWork.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  private void laneFree() {
    laneBusy = false;
    drainLane();
  }

  /** Sends one call and completes its sink; always ends with {@link #laneFree()}. */
  private void run(Call<?> call) {
    String operation = call.session.operation;
    Request request;
    try {
      // A statement nobody waits for any more is skipped; an ending is always sent.
      request = call.cancelled && !call.ends() ? null : request(call);
    } catch (RuntimeException e) {
      call.sink.error(translate(operation, e));
      laneFree();
      return;
    }
    if (request == null) {
      call.sink.success();
      laneFree();
      return;
    }
    post(http, request.url(), request.body()).subscribe(
        answer -> {
          try {
            call.complete(answered(call, request, answer));
          } catch (RuntimeException e) {
            call.sink.error(translate(operation, e));
          }
          laneFree();
        },
        error -> {
          failedInTransit(call);
          call.sink.error(translate(operation, error));
          laneFree();
        });
  }

  /**
   * What a call sends, and where its steps are in the batch (-1: not in it); null if it sends
   * nothing.
   */
  private record Request(String url, ObjectNode body, boolean hasBatch, boolean closes, int leftoverStep,
      int pragmaStep, int beginStep, int[] steps) {}

  private @Nullable Request request(Call<?> call) {
    Session s = call.session;
    if (s.lost) {
      if (call.ends()) {
        return null;
      }
      throw new StoreUnavailableException(s.operation,
          s.operation + ": the connection to " + where + " was lost in this unit of work", null);
    }
    boolean streamOpen = mode == Mode.STREAMS && s.baton != null;
    if (call.ends() && !s.inTransaction && !streamOpen) {
      return null;
    }
    Batch batch = new Batch();
    int leftoverStep = -1;
    int pragmaStep = -1;
    int beginStep = -1;
    @Nullable ObjectNode gate = null;
    if (!s.started || (mode == Mode.STREAMS && !s.transactional)) {
      // The first request on a connection or stream.
      if (mode == Mode.SHARED_CONNECTION && leftoverTransaction) {
        leftoverStep = batch.add(sql("rollback"), NO_ARGS, null);
      }
      // Off by default in SQLite and Turso, per connection, and a no-op inside a transaction.
      pragmaStep = batch.add(sql("enable_foreign_keys"), NO_ARGS, null);
      gate = ok(pragmaStep);
      if (s.transactional) {
        beginStep = batch.add(sql("begin"), NO_ARGS, gate);
        gate = ok(beginStep);
      }
    }
    int[] steps;
    switch (call.kind) {
      case QUERY -> steps = new int[] {batch.add(call.sql.get(0), call.args, gate)};
      case UPDATE -> {
        int statement = batch.add(call.sql.get(0), call.args, gate);
        steps = new int[] {statement, batch.add(sql("changes"), NO_ARGS, ok(statement))};
      }
      case SCRIPT -> {
        steps = new int[call.sql.size()];
        for (int i = 0; i < steps.length; i++) {
          steps[i] = batch.add(call.sql.get(i), NO_ARGS, gate);
          gate = ok(steps[i]);
        }
      }
      case COMMIT -> {
        if (s.inTransaction) {
          int commit = batch.add(sql("commit"), NO_ARGS, null);
          // A failed COMMIT leaves the transaction open: roll it back in the same request.
          steps = new int[] {commit, batch.add(sql("rollback"), NO_ARGS, error(commit))};
        } else {
          steps = new int[0];
        }
      }
      case ROLLBACK -> steps = s.inTransaction ? new int[] {batch.add(sql("rollback"), NO_ARGS, null)} : new int[0];
      default -> throw new IllegalStateException("unknown call " + call.kind);
    }
    boolean closes = mode == Mode.STREAMS && (!s.transactional || call.ends());
    String baton = mode == Mode.STREAMS && s.transactional ? s.baton : null;
    ObjectNode body = JSON.createObjectNode();
    if (baton == null) {
      body.putNull("baton");
    } else {
      body.put("baton", baton);
    }
    ArrayNode requests = body.putArray("requests");
    if (batch.size() > 0) {
      ObjectNode request = requests.addObject().put("type", "batch");
      request.putObject("batch").set("steps", batch.steps);
    }
    if (closes) {
      requests.addObject().put("type", "close");
    }
    if (requests.isEmpty()) {
      return null;
    }
    s.started = true;
    if (beginStep >= 0 && mode == Mode.SHARED_CONNECTION) {
      // Until the answer says otherwise, a transaction of ours may be open on the server.
      leftoverTransaction = true;
    }
    String url = baton != null && s.streamUrl != null ? s.streamUrl : baseUrl;
    return new Request(url, body, batch.size() > 0, closes, leftoverStep, pragmaStep, beginStep, steps);
  }

  /** Reads the answer to a call, updates the session and returns the call's value, or throws. */
  private @Nullable Object answered(Call<?> call, Request request, Answer answer) {
    Session s = call.session;
    if (mode == Mode.STREAMS && s.transactional) {
      s.baton = textOrNull(answer.json().get("baton"));
      String url = textOrNull(answer.json().get("base_url"));
      if (url != null) {
        s.streamUrl = trimSlash(url);
      }
      if (s.baton == null && !request.closes()) {
        // The server closed the stream: whatever this unit did on it is rolled back.
        s.lost = true;
        s.inTransaction = false;
      }
    }
    if (!request.hasBatch()) {
      return null; // a bare close
    }
    JsonNode batchResult = answer.results().path(0);
    if (!"ok".equals(batchResult.path("type").asText())) {
      if (call.ends()) {
        s.inTransaction = false;
      }
      throw sqlError(s.operation, batchResult.path("error"));
    }
    Steps steps = new Steps(batchResult.path("response").path("result"));
    if (request.leftoverStep() >= 0) {
      leftoverTransaction = false; // rolled back, or there was nothing to roll back
    }
    if (request.pragmaStep() >= 0) {
      steps.check(s.operation, request.pragmaStep());
    }
    if (request.beginStep() >= 0) {
      if (!steps.ran(request.beginStep())) {
        if (mode == Mode.SHARED_CONNECTION) {
          leftoverTransaction = false;
        }
        throw new StoreUnavailableException(s.operation, s.operation + ": cannot begin a transaction on " + where
            + ": " + steps.errorMessage(request.beginStep()), null);
      }
      s.inTransaction = true;
    }
    int[] at = request.steps();
    switch (call.kind) {
      case QUERY -> {
        return rows(steps.check(s.operation, at[0]));
      }
      case UPDATE -> {
        steps.check(s.operation, at[0]);
        List<SqlRow> changes = rows(steps.check(s.operation, at[1]));
        return changes.isEmpty() ? 0L : changes.get(0).longValue("n");
      }
      case SCRIPT -> {
        for (int step : at) {
          steps.check(s.operation, step);
        }
        return null;
      }
      case COMMIT -> {
        if (at.length > 0 && !steps.ran(at[0])) {
          s.inTransaction = !steps.ran(at[1]);
          if (!s.inTransaction && mode == Mode.SHARED_CONNECTION) {
            leftoverTransaction = false;
          }
          steps.check(s.operation, at[0]);
        }
        s.inTransaction = false;
        if (mode == Mode.SHARED_CONNECTION) {
          leftoverTransaction = false;
        }
        return null;
      }
      case ROLLBACK -> {
        // A failed ROLLBACK means there was no transaction left to roll back.
        s.inTransaction = false;
        if (mode == Mode.SHARED_CONNECTION) {
          leftoverTransaction = false;
        }
        return null;
      }
      default -> throw new IllegalStateException("unknown call " + call.kind);
    }
  }

  /** The step results and errors of one batch answer. */
  private final class Steps {
    private final JsonNode results;
    private final JsonNode errors;

    Steps(JsonNode batchResult) {
      this.results = batchResult.path("step_results");
      this.errors = batchResult.path("step_errors");
    }

    boolean ran(int step) {
      return results.path(step).isObject();
    }

    String errorMessage(int step) {
      JsonNode error = errors.path(step);
      return error.isObject() ? HranaExecutor.errorMessage(error) : "it did not run";
    }

    /** The step's result; throws its error, or says it did not run. */
    JsonNode check(String operation, int step) {
      JsonNode error = errors.path(step);
      if (error.isObject()) {
        throw sqlError(operation, error);
      }
      JsonNode result = results.path(step);
      if (!result.isObject()) {
        throw new StoreOperationException(operation, operation + ": a statement did not run", null);
      }
      return result;
    }
  }

  /** A request failed in transit: the unit's stream, and in shared mode a transaction, are unknown. */
  private void failedInTransit(Call<?> call) {
    Session s = call.session;
    if (s.transactional && s.started) {
      s.lost = true;
      s.inTransaction = false;
      if (mode == Mode.SHARED_CONNECTION) {
        leftoverTransaction = true;
      }
    }
  }

  // ---------------------------------------------------------------- wire format

  /** The steps of one Hrana batch. */
  private static final class Batch {
    final ArrayNode steps = JSON.createArrayNode();

    int add(String sql, @Nullable Object[] args, @Nullable ObjectNode condition) {
      ObjectNode step = steps.addObject();
      if (condition != null) {
        step.set("condition", condition);
      }
      ObjectNode stmt = step.putObject("stmt");
      stmt.put("sql", sql);
      ArrayNode values = stmt.putArray("args");
      for (Object arg : args) {
        values.add(value(arg));
      }
      stmt.put("want_rows", true);
      return steps.size() - 1;
    }

    int size() {
      return steps.size();
    }
  }

  private static ObjectNode ok(int step) {
    return JSON.createObjectNode().put("type", "ok").put("step", step);
  }

  private static ObjectNode error(int step) {
    return JSON.createObjectNode().put("type", "error").put("step", step);
  }

  private static ObjectNode execute(String sql) {
    ObjectNode request = JSON.createObjectNode().put("type", "execute");
    request.putObject("stmt").put("sql", sql);
    return request;
  }

  /** Encodes an argument as a Hrana value: integers as decimal strings, floats as JSON numbers. */
  static ObjectNode value(@Nullable Object arg) {
    ObjectNode v = JSON.createObjectNode();
    if (arg == null) {
      v.put("type", "null");
    } else if (arg instanceof Long || arg instanceof Integer || arg instanceof Short || arg instanceof Byte) {
      v.put("type", "integer").put("value", arg.toString());
    } else if (arg instanceof Boolean b) {
      v.put("type", "integer").put("value", b ? "1" : "0");
    } else if (arg instanceof Double || arg instanceof Float) {
      double d = ((Number) arg).doubleValue();
      if (!Double.isFinite(d)) {
        throw new IllegalArgumentException("cannot send the float " + d + " to SQLite");
      }
      v.put("type", "float").put("value", d);
    } else if (arg instanceof String text) {
      v.put("type", "text").put("value", text);
    } else if (arg instanceof byte[] bytes) {
      v.put("type", "blob").put("base64", Base64.getEncoder().encodeToString(bytes));
    } else {
      throw new IllegalArgumentException("cannot send an argument of type " + arg.getClass().getName());
    }
    return v;
  }

  /** Decodes a Hrana value: Long, Double, String, byte[] or null. */
  static @Nullable Object decode(JsonNode v) {
    String type = v.path("type").asText();
    switch (type) {
      case "null" -> {
        return null;
      }
      case "integer" -> {
        JsonNode value = v.path("value");
        return value.isNumber() ? value.longValue() : Long.parseLong(value.asText());
      }
      case "float" -> {
        JsonNode value = v.path("value");
        return value.isNumber() ? value.doubleValue() : Double.parseDouble(value.asText());
      }
      case "text" -> {
        return v.path("value").asText();
      }
      case "blob" -> {
        return Base64.getDecoder().decode(v.path("base64").asText());
      }
      default -> throw new IllegalStateException("unknown Hrana value type '" + type + "'");
    }
  }

  private static List<SqlRow> rows(JsonNode result) {
    JsonNode cols = result.path("cols");
    String[] labels = new String[cols.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = cols.path(i).path("name").asText("").toLowerCase(Locale.ROOT);
    }
    List<SqlRow> rows = new ArrayList<>(result.path("rows").size());
    for (JsonNode row : result.path("rows")) {
      Map<String, @Nullable Object> values = new LinkedHashMap<>(labels.length * 2);
      for (int i = 0; i < labels.length; i++) {
        values.put(labels[i], decode(row.path(i)));
      }
      rows.add(new SqlRow(values));
    }
    return rows;
  }

  /** A parsed 200 answer. */
  private record Answer(JsonNode json) {
    JsonNode results() {
      return json.path("results");
    }
  }

  /** The server answered with an HTTP error status. */
  static final class HttpStatusException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    HttpStatusException(int status, String message) {
      super(message);
      this.status = status;
    }

    int status() {
      return status;
    }
  }

  private static Mono<Answer> post(HttpClient http, String url, ObjectNode body) {
    return Mono.defer(() -> {
      byte[] bytes;
      try {
        bytes = JSON.writeValueAsBytes(body);
      } catch (JsonProcessingException e) {
        return Mono.error(e);
      }
      return http.post()
          .uri(url + PIPELINE)
          .send((request, out) -> {
            request.header(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(bytes.length));
            return out.sendByteArray(Mono.just(bytes));
          })
          .responseSingle((response, content) -> content.asByteArray()
              .defaultIfEmpty(new byte[0])
              .flatMap(data -> {
                int status = response.status().code();
                if (status != 200) {
                  return Mono.error(new HttpStatusException(status, "HTTP " + status + " " + excerpt(data)));
                }
                try {
                  return Mono.just(new Answer(JSON.readTree(data)));
                } catch (IOException e) {
                  return Mono.error(new IllegalStateException("the answer is not Hrana JSON: " + excerpt(data), e));
                }
              }));
    });
  }

  private static String excerpt(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8).strip();
    return text.length() > 300 ? text.substring(0, 300) + "..." : text;
  }

  private static @Nullable String textOrNull(@Nullable JsonNode node) {
    return node == null || node.isNull() ? null : node.asText();
  }

  private static String trimSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  private static String errorMessage(JsonNode error) {
    String message = error.path("message").asText("unknown error");
    String code = textOrNull(error.get("code"));
    return code == null || code.isEmpty() ? message : message + " [" + code + "]";
  }

  // ---------------------------------------------------------------- errors

  private RuntimeException sqlError(String operation, JsonNode error) {
    String message = errorMessage(error);
    String lower = message.toLowerCase(Locale.ROOT);
    if (lower.contains("no such table")) {
      return new SchemaNotInstalledException(where,
          operation + ": pgqrs is not installed in " + where + " (" + message + "); run admin().install()");
    }
    if (lower.contains("database is locked") || lower.contains("database table is locked")
        || lower.contains("sqlite_busy") || lower.contains("sqlite_locked")) {
      return new StoreUnavailableException(operation, operation + ": " + message, null);
    }
    return new StoreOperationException(operation, operation + ": " + message, null);
  }

  private Throwable translate(String operation, Throwable error) {
    if (error instanceof PgqrsException) {
      return error;
    }
    if (error instanceof PoolShutdownException) {
      return new StoreUnavailableException(operation, operation + ": the store is closed", error);
    }
    if (error instanceof HttpStatusException h && (h.status() == 401 || h.status() == 403)) {
      return new StoreOperationException(operation,
          operation + ": " + where + " refused the request (check the auth token): " + h.getMessage(), error);
    }
    if (isTransport(error)) {
      return new StoreUnavailableException(operation, operation + ": cannot reach " + where + ": " + describe(error),
          error);
    }
    return new StoreOperationException(operation, operation + " failed: " + describe(error), error);
  }

  private static boolean isTransport(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof IOException || t instanceof TimeoutException
          || t.getClass().getName().startsWith("io.netty.channel")
          || t.getClass().getName().startsWith("io.netty.handler.timeout")
          || t.getClass().getName().startsWith("reactor.netty")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static String describe(Throwable error) {
    if (error instanceof HttpStatusException h && (h.status() == 401 || h.status() == 403)) {
      return "the server refused the auth token: " + h.getMessage();
    }
    String message = error.getMessage();
    return message == null || message.isBlank() ? error.getClass().getSimpleName() : message;
  }
}
