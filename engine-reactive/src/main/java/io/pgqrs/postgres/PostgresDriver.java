package io.pgqrs.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.Capabilities;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.internal.Json;
import io.pgqrs.internal.Names;
import io.pgqrs.internal.SqlStatements;
import io.pgqrs.queue.Lease;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.worker.WorkerAlreadyExistsException;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.WorkflowNotFoundException;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The PostgreSQL store: r2dbc-postgresql connections from an r2dbc-pool, every statement from the
 * SQL files of {@link PostgresStatements}.
 */
final class PostgresDriver implements StoreDriver {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PostgresDriver.class);

  private static final Capabilities CAPABILITIES = new Capabilities("postgres", true, true, false, true, true);

  /** The earliest instant a timestamptz holds (4714-11-24 BC), in microseconds since the epoch. */
  private static final long EARLIEST_TIMESTAMP_MICROS = -210_866_803_200_000_000L;

  /** The migrations this library ships, in order; version = position + 1. */
  static final List<Migration> MIGRATIONS = loadMigrations();

  private final ConnectionPool pool;
  private final String schema;
  /** The schema as the migrations' {@code ${schema}} placeholder takes it. */
  private final String quotedSchema;
  private final SqlStatements sql;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Null when wake-ups are off: then nothing LISTENs. */
  private final @Nullable PostgresListener listener;
  /** Null on a direct connection; set behind a transaction-mode pooler. */
  private final @Nullable TransactionSettings pooled;
  /** Sends this engine's wake-ups after its writes commit (see {@link #announceQueues}). */
  private final PostgresNotifier notifier;
  /** Vacuums pgqrs_messages as this engine's claims churn it. */
  private final PostgresHotTableVacuum vacuum = new PostgresHotTableVacuum(PostgresHotTableVacuum.EVERY,
      this::vacuumMessages);

  /**
   * How work runs behind a transaction-mode pooler: every operation in a transaction (a server
   * connection is only this client's for a transaction), begun by {@code begin}, which also sets
   * the timeouts for that transaction.
   *
   * @param begin a simple query: {@code BEGIN}, then {@code SET LOCAL} of each timeout
   */
  record TransactionSettings(String begin) {}

  /**
   * A driver on the pool.
   *
   * @param listener the LISTEN connection, or null for none (wake-ups off)
   * @param sql the statements of {@code schema}, from {@link PostgresStatements#forSchema}
   * @param pooled null for a direct connection, else how transactions begin behind the pooler
   */
  PostgresDriver(ConnectionPool pool, @Nullable PostgresListener listener, String schema, SqlStatements sql,
      @Nullable TransactionSettings pooled) {
    this.pool = pool;
    this.listener = listener;
    this.pooled = pooled;
    this.schema = Names.checkSchema(schema);
    this.quotedSchema = Names.quoteIdentifier(schema);
    this.sql = sql;
    // Without a listener nothing here ignores the origin; other engines' listeners wake on it.
    this.notifier = new PostgresNotifier(listener != null ? listener.origin() : PostgresListener.newOrigin(),
        PostgresListener.channel(this.schema, RUNS_CHANNEL_KEY), this::sendNotifications);
  }

  record Migration(int version, String name, String sqlTemplate) {}

  /** The pool of the store's connections, for tests of their session settings. */
  ConnectionPool pool() {
    return pool;
  }

  private static List<Migration> loadMigrations() {
    String base = "/io/pgqrs/postgres/migrations/";
    List<Migration> result = new ArrayList<>();
    for (String file : PostgresStatements.resource(base + "index").split("\n")) {
      if (file.isBlank()) {
        continue;
      }
      int version = Integer.parseInt(file.substring(1, file.indexOf("__")));
      if (version != result.size() + 1) {
        throw new IllegalStateException("migration " + file + " is out of sequence");
      }
      result.add(new Migration(version, file.trim(), PostgresStatements.resource(base + file.trim())));
    }
    return List.copyOf(result);
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public String schema() {
    return schema;
  }

  // ---------------------------------------------------------------- plumbing

  /** A typed null, so the server learns the parameter's type. */
  private record Null(Class<?> type) {}

  private static Object opt(@Nullable Object value, Class<?> type) {
    return value == null ? new Null(type) : value;
  }

  /**
   * A duration in milliseconds, or a typed null. Saturates instead of throwing, so an absurd
   * duration fails the operation's publisher (the statement's arithmetic overflows in SQL) rather
   * than the call that builds it.
   */
  private static Object millis(@Nullable Duration d) {
    return d == null ? new Null(Long.class) : (Object) saturatedMillis(d);
  }

  private static long saturatedMillis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * An absolute visibility in microseconds since the epoch, as the enqueue statement takes it.
   * Times before PostgreSQL's earliest timestamp are raised to it: the statement makes every past
   * visibility "now", as SQLite, which keeps them, does too.
   *
   * @throws InvalidArgumentException if the instant is beyond the microseconds a 64-bit count holds,
   *     the range SQLite stores
   */
  private static @Nullable Long visibleMicros(@Nullable Instant at) {
    if (at == null) {
      return null;
    }
    try {
      return Math.max(EARLIEST_TIMESTAMP_MICROS,
          Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000L));
    } catch (ArithmeticException e) {
      throw new InvalidArgumentException("visibleAt", "visibleAt " + at + " is beyond the times a store keeps");
    }
  }

  /** The most microseconds a due time is put off: far beyond any real wait, within timestamp range. */
  private static final long MAX_WAIT_MICROS = Long.MAX_VALUE / 2;

  /** A wait in microseconds, rounded up (a due time is never early) and saturating; a typed null if none. */
  private static Object micros(@Nullable Duration d) {
    if (d == null) {
      return new Null(Long.class);
    }
    if (d.getSeconds() >= MAX_WAIT_MICROS / 1_000_000L) {
      return MAX_WAIT_MICROS;
    }
    return d.getSeconds() * 1_000_000L + (d.getNano() + 999) / 1_000;
  }

  /** How long from the store's {@code now} until {@code at}: zero once it has passed. */
  private static Duration until(Instant now, Instant at) {
    Duration left = Duration.between(now, at);
    return left.isNegative() ? Duration.ZERO : left;
  }

  private static Statement bind(Statement statement, Object... args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i] instanceof Null n) {
        statement.bindNull(i, n.type());
      } else {
        statement.bind(i, args[i]);
      }
    }
    return statement;
  }

  private static <T> Flux<T> rows(Connection c, String text, Function<Row, T> mapper, Object... args) {
    return Flux.from(bind(c.createStatement(text), args).execute())
        .concatMap(result -> result.map((row, meta) -> mapper.apply(row)));
  }

  private static Mono<Long> updated(Connection c, String text, Object... args) {
    return Flux.from(bind(c.createStatement(text), args).execute())
        .concatMap(Result::getRowsUpdated)
        .reduce(0L, Long::sum);
  }

  private static Mono<Void> execute(Connection c, String text) {
    return Flux.from(c.createStatement(text).execute()).concatMap(Result::getRowsUpdated).then();
  }

  /**
   * Runs work on one pooled connection in autocommit mode; the connection goes back on any end.
   * Behind a transaction-mode pooler the work runs in a transaction instead, begun with the
   * timeouts (see {@link TransactionSettings}).
   */
  private <T> Flux<T> withConnection(String op, Function<Connection, Publisher<T>> work) {
    if (pooled != null) {
      return Flux.usingWhen(acquire(), connection -> transaction(connection, work), Connection::close)
          .onErrorMap(e -> PostgresErrors.translate(op, schema, e));
    }
    return Flux.usingWhen(acquire(), work, Connection::close)
        .onErrorMap(e -> PostgresErrors.translate(op, schema, e));
  }

  /** Work in a transaction of the connection: commit on completion, rollback on error or cancel. */
  private <T> Flux<T> transaction(Connection connection, Function<Connection, ? extends Publisher<T>> work) {
    return Flux.usingWhen(begin(connection).thenReturn(connection),
        work,
        Connection::commitTransaction,
        (c, error) -> c.rollbackTransaction(),
        Connection::rollbackTransaction);
  }

  /**
   * Begins a transaction: {@code BEGIN}, and behind a transaction-mode pooler the timeouts with it
   * in the same simple query. The driver reads the transaction state from the server's
   * ReadyForQuery, so commit and rollback work alike after either.
   */
  private Mono<Void> begin(Connection connection) {
    TransactionSettings p = pooled;
    return p == null ? Mono.from(connection.beginTransaction())
        : Flux.from(connection.createStatement(p.begin()).execute()).concatMap(Result::getRowsUpdated).then();
  }

  /**
   * Runs work in one transaction: commit on completion, rollback on error, rollback on cancel.
   * The only place this backend begins a transaction. The work's single value (if any) is emitted
   * only after the commit succeeded: a subscriber that takes the value and cancels can never turn
   * the commit into a rollback.
   */
  private <T> Mono<T> inTransaction(String op, Function<Connection, Mono<T>> work) {
    return Flux.usingWhen(acquire(), connection -> transaction(connection, work), Connection::close)
        .singleOrEmpty()
        .onErrorMap(e -> PostgresErrors.translate(op, schema, e));
  }

  /**
   * How an operation's work reaches a connection: a pooled one (in a transaction of the engine's,
   * or in autocommit), or the caller's, in the caller's transaction. Normal and caller-bound paths
   * share one body of work and one set of statements through it.
   */
  @FunctionalInterface
  private interface OnConnection {
    <T> Mono<T> run(String op, Function<Connection, Mono<T>> work);
  }

  /** Work on one pooled connection in autocommit mode (see {@link #withConnection}), as one value. */
  private <T> Mono<T> autocommit(String op, Function<Connection, Mono<T>> work) {
    return withConnection(op, work::apply).singleOrEmpty();
  }

  /**
   * Work on the caller's connection, inside the caller's transaction: nothing is begun, committed,
   * rolled back or closed here, so the work's writes commit or roll back with the caller's, and the
   * NOTIFYs its statements send are delivered only when the caller commits.
   */
  private OnConnection callerTransaction(Object connection) {
    return new OnConnection() {
      @Override
      public <T> Mono<T> run(String op, Function<Connection, Mono<T>> work) {
        return Mono.defer(() -> {
          if (!(connection instanceof Connection c)) {
            return Mono.error(new InvalidArgumentException("connection", op
                + " in the caller's transaction needs an R2DBC connection to PostgreSQL, got "
                + connection.getClass().getName()));
          }
          if (closed.get()) {
            return Mono.error(new StoreUnavailableException(op, "the store is closed", null));
          }
          return work.apply(c);
        }).onErrorMap(e -> PostgresErrors.translate(op, schema, e));
      }
    };
  }

  private Mono<Connection> acquire() {
    return Mono.defer(() -> closed.get()
        ? Mono.error(new StoreUnavailableException("acquire", "the store is closed", null))
        : pool.create());
  }

  /** A single-row statement; waits for the statement to complete instead of cancelling after the row. */
  private <T> Mono<T> one(String op, String text, Function<Row, T> mapper, Object... args) {
    return withConnection(op, c -> rows(c, text, mapper, args)).singleOrEmpty();
  }

  private Mono<Long> update(String op, String text, Object... args) {
    return withConnection(op, c -> updated(c, text, args)).singleOrEmpty();
  }

  // ---------------------------------------------------------------- row mapping

  private static Instant instant(Row row, String column) {
    Instant value = row.get(column, Instant.class);
    if (value == null) {
      throw new IllegalStateException("column " + column + " is null");
    }
    return value;
  }

  private static long longValue(Row row, String column) {
    Long value = row.get(column, Long.class);
    return value == null ? 0L : value;
  }

  private static int intValue(Row row, String column) {
    Integer value = row.get(column, Integer.class);
    return value == null ? 0 : value;
  }

  private static String text(Row row, String column) {
    String value = row.get(column, String.class);
    if (value == null) {
      throw new IllegalStateException("column " + column + " is null");
    }
    return value;
  }

  private static Message message(Row row) {
    return message(row, "");
  }

  /** A message read from columns named with a prefix, apart from other columns of the same row. */
  private static Message message(Row row, String prefix) {
    return new Message(
        longValue(row, prefix + "id"),
        text(row, prefix + "queue"),
        Json.parsePayload(text(row, prefix + "payload")),
        MessageState.valueOf(text(row, prefix + "state").toUpperCase(Locale.ROOT)),
        intValue(row, prefix + "priority"),
        intValue(row, prefix + "attempts"),
        instant(row, prefix + "enqueued_at"),
        instant(row, prefix + "visible_at"),
        row.get(prefix + "lease_token", UUID.class),
        row.get(prefix + "lease_owner", Long.class),
        row.get(prefix + "dedup_key", String.class),
        row.get(prefix + "last_error", String.class),
        row.get(prefix + "archived_at", Instant.class),
        row.get(prefix + "dead_at", Instant.class),
        row.get(prefix + "group_key", String.class),
        Json.parseHeaders(row.get(prefix + "headers", String.class)));
  }

  private static QueueInfo queue(Row row) {
    return new QueueInfo(longValue(row, "id"), text(row, "name"), intValue(row, "max_attempts"),
        instant(row, "created_at"), row.get("max_leased", Integer.class), row.get("claim_rate", Integer.class),
        row.get("max_leased_per_key", Integer.class));
  }

  private static WorkerInfo worker(Row row) {
    return new WorkerInfo(
        longValue(row, "id"),
        text(row, "name"),
        row.get("queue", String.class),
        text(row, "hostname"),
        longValue(row, "pid"),
        WorkerStatus.valueOf(text(row, "status").toUpperCase(Locale.ROOT)),
        instant(row, "started_at"),
        instant(row, "heartbeat_at"),
        row.get("stopped_at", Instant.class));
  }

  // ---------------------------------------------------------------- schema

  @Override
  public Mono<Void> install() {
    return inTransaction("install", c -> execute(c, sql.get("no_statement_timeout"))
        .then(updated(c, sql.get("install_lock"), schema))
        .then(rows(c, sql.get("schema_exists"), row -> Boolean.TRUE.equals(row.get("present", Boolean.class)), schema)
            .singleOrEmpty())
        .flatMap(exists -> (exists ? Mono.<Void>empty() : execute(c, sql.get("create_schema")))
            .then(execute(c, sql.get("create_migrations_table")))
            .then(rows(c, sql.get("applied_migrations"), row -> intValue(row, "version")).collectList())
            .flatMap(applied -> Flux.fromIterable(MIGRATIONS)
                .filter(m -> !applied.contains(m.version()))
                .concatMap(m -> execute(c, m.sqlTemplate().replace("${schema}", quotedSchema))
                    .then(updated(c, sql.get("record_migration"), m.version(), m.name(), !exists && m.version() == 1)))
                .then())))
        .then();
  }

  @Override
  public Mono<SchemaReport> verify() {
    return withConnection("verify", c -> rows(c, sql.get("missing_relations"), row -> text(row, "name"))
            .collectList()
            .flatMap(missing -> (missing.contains("pgqrs_migrations")
                    ? Mono.just(0)
                    : rows(c, sql.get("applied_migrations"), row -> intValue(row, "version"))
                        .reduce(0, Math::max))
                .map(version -> new SchemaReport(schema, version, MIGRATIONS.size(), missing))))
        .singleOrEmpty();
  }

  @Override
  public Mono<Void> uninstall() {
    return inTransaction("uninstall", c -> execute(c, sql.get("no_statement_timeout"))
        .then(updated(c, sql.get("install_lock"), schema))
        .then(rows(c, sql.get("migrations_table_exists"),
            row -> Boolean.TRUE.equals(row.get("present", Boolean.class))).singleOrEmpty())
        .flatMap(installed -> !installed
            ? Mono.<Void>empty()
            : rows(c, sql.get("schema_created_by_install"),
                    row -> Boolean.TRUE.equals(row.get("created", Boolean.class)))
                .singleOrEmpty()
                .flatMap(created -> reportForeignTables(c)
                    .then(execute(c, sql.get("drop_owned_tables")))
                    .then(created ? execute(c, sql.get("drop_schema_if_empty")) : Mono.empty()))))
        .then();
  }

  /** Logs the tables with pgqrs names that install did not make, which uninstall leaves in place. */
  private Mono<Void> reportForeignTables(Connection c) {
    return rows(c, sql.get("pgqrs_tables"), row -> Boolean.TRUE.equals(row.get("owned", Boolean.class))
            ? "" : text(row, "name"))
        .filter(name -> !name.isEmpty())
        .collectList()
        .doOnNext(foreign -> {
          if (!foreign.isEmpty()) {
            log.warn("pgqrs uninstall leaves {} in schema {}: pgqrs did not create them", foreign, schema);
          }
        })
        .then();
  }

  // ---------------------------------------------------------------- queues

  @Override
  public Mono<QueueInfo> createQueue(StoreParams.CreateQueue p) {
    return one("create queue", sql.get("create_queue"), PostgresDriver::queue, opt(p.now(), Instant.class), p.queue(),
            p.maxAttempts(), opt(p.maxLeased(), Integer.class), opt(p.maxClaimsPerSecond(), Integer.class),
            opt(p.maxLeasedPerKey(), Integer.class))
        .switchIfEmpty(Mono.error(() ->
            new QueueAlreadyExistsException(p.queue(), "queue '" + p.queue() + "' exists already")));
  }

  @Override
  public Mono<QueueInfo> configureQueue(StoreParams.ConfigureQueue p) {
    return one("configure queue", sql.get("configure_queue"), PostgresDriver::queue, p.queue(),
        opt(p.maxAttempts(), Integer.class), opt(p.maxLeased(), Integer.class),
        opt(p.maxClaimsPerSecond(), Integer.class), opt(p.maxLeasedPerKey(), Integer.class));
  }

  @Override
  public Mono<QueueInfo> findQueue(String queue) {
    return one("get queue", sql.get("find_queue"), PostgresDriver::queue, queue);
  }

  @Override
  public Flux<QueueInfo> listQueues() {
    return withConnection("list queues", c -> rows(c, sql.get("list_queues"), PostgresDriver::queue));
  }

  private static QueueNotFoundException queueNotFound(String queue) {
    return new QueueNotFoundException(queue, "queue '" + queue + "' does not exist");
  }

  @Override
  public Mono<Long> purgeQueue(String queue) {
    return one("purge queue", sql.get("purge_queue"),
            row -> longValue(row, "queues") == 0 ? -1L : longValue(row, "deleted"), queue)
        .flatMap(n -> n < 0 ? Mono.error(queueNotFound(queue)) : Mono.just(n));
  }

  @Override
  public Mono<StoreResults.QueueDeletion> deleteQueue(StoreParams.DeleteQueue p) {
    return inTransaction("delete queue", c -> rows(c, sql.get("lock_queue"), row -> longValue(row, "id"), p.queue())
        .singleOrEmpty()
        .flatMap(id -> rows(c, sql.get("count_queue_use"),
                row -> new StoreResults.QueueInUse(longValue(row, "live"), longValue(row, "workers")), id)
            .singleOrEmpty()
            .flatMap(use -> !p.force() && (use.liveMessages() > 0 || use.activeWorkers() > 0)
                ? Mono.<StoreResults.QueueDeletion>just(use)
                : updated(c, sql.get("delete_queue"), id).thenReturn(new StoreResults.QueueDeleted())))
        .defaultIfEmpty(new StoreResults.QueueMissing()));
  }

  // ---------------------------------------------------------------- messages

  @Override
  public Mono<List<StoreResults.Enqueued>> enqueue(StoreParams.Enqueue p) {
    // Deferred: a row the parameters cannot hold fails the publisher, not this call.
    return Mono.defer(() -> enqueueRows(p, this::inTransaction, false))
        .doOnNext(out -> {
          if (out.stream().anyMatch(StoreResults.Enqueued::inserted)) {
            announceQueues(List.of(p.queue()));
          }
        });
  }

  @Override
  public Mono<List<StoreResults.Enqueued>> enqueueInTransaction(StoreParams.Enqueue p, Object connection) {
    // Notified in the statement: delivered when, and only if, the caller commits.
    return Mono.defer(() -> enqueueRows(p, callerTransaction(connection), true));
  }

  /**
   * The enqueue statement and the dedup look-up after it, on one connection of {@code on}; the
   * statement notifies the queue's channel itself only if {@code notifyInStatement}.
   */
  private Mono<List<StoreResults.Enqueued>> enqueueRows(StoreParams.Enqueue p, OnConnection on,
      boolean notifyInStatement) {
    int n = p.rows().size();
    String[] payloads = new String[n];
    Long[] delays = new Long[n];
    Long[] visibleMicros = new Long[n];
    String[] keys = new String[n];
    Integer[] priorities = new Integer[n];
    String[] groups = new String[n];
    String[] headers = new String[n];
    for (int i = 0; i < n; i++) {
      StoreParams.NewRow row = p.rows().get(i);
      payloads[i] = row.payloadJson();
      delays[i] = row.delay() == null ? null : saturatedMillis(row.delay());
      visibleMicros[i] = visibleMicros(row.visibleAt());
      keys[i] = row.dedupKey();
      priorities[i] = row.priority();
      groups[i] = row.groupKey();
      headers[i] = row.headersJson();
    }
    record Inserted(@Nullable Long queueId, @Nullable Long id, @Nullable String key) {}
    return on.run("enqueue", c -> rows(c, sql.get("enqueue"),
            row -> new Inserted(row.get("queue_id", Long.class), row.get("id", Long.class),
                row.get("dedup_key", String.class)),
            opt(p.now(), Instant.class), p.queue(), payloads, delays, visibleMicros, keys, priorities,
            notifyInStatement ? PostgresListener.channel(schema, p.queue()) : new Null(String.class), groups,
            headers)
        .collectList()
        .flatMap(inserted -> {
          Long queueId = inserted.get(0).queueId();
          if (queueId == null) {
            return Mono.error(queueNotFound(p.queue()));
          }
          List<Long> ids = new ArrayList<>();
          Set<String> insertedKeys = new HashSet<>();
          for (Inserted i : inserted) {
            if (i.id() != null) {
              ids.add(i.id());
              if (i.key() != null) {
                insertedKeys.add(i.key());
              }
            }
          }
          // Inserted ids ascend in input order; a keyed row was inserted only by the first
          // occurrence of its key that was not already live.
          StoreResults.Enqueued[] out = new StoreResults.Enqueued[n];
          Set<String> claimedKeys = new HashSet<>();
          List<String> existingKeys = new ArrayList<>();
          int next = 0;
          Map<String, Long> idByKey = new HashMap<>();
          for (int i = 0; i < n; i++) {
            String key = keys[i];
            if (key == null || (insertedKeys.contains(key) && claimedKeys.add(key))) {
              long id = ids.get(next++);
              out[i] = new StoreResults.Enqueued(id, true);
              if (key != null) {
                idByKey.put(key, id);
              }
            } else if (!insertedKeys.contains(key)) {
              existingKeys.add(key);
            }
          }
          Mono<Map<String, Long>> existing = existingKeys.isEmpty()
              ? Mono.just(Map.of())
              : rows(c, sql.get("find_live_by_dedup_keys"),
                      row -> Map.entry(text(row, "dedup_key"), longValue(row, "id")),
                      queueId, existingKeys.toArray(new String[0]))
                  .collectMap(Map.Entry::getKey, Map.Entry::getValue);
          return existing.flatMap(found -> {
            for (int i = 0; i < n; i++) {
              if (out[i] == null) {
                Long id = idByKey.containsKey(keys[i]) ? idByKey.get(keys[i]) : found.get(keys[i]);
                if (id == null) {
                  // The live duplicate left the live set between the insert and the lookup.
                  return Mono.error(new StoreUnavailableException("enqueue",
                      "enqueue: the live message with dedup key '" + keys[i] + "' changed concurrently; retry",
                      null));
                }
                out[i] = new StoreResults.Enqueued(id, false);
              }
            }
            return Mono.just(List.of(out));
          });
        }));
  }

  /**
   * The queues last seen with a per-key limit, so their claims go to claim_fair at once. Only a
   * guess: either statement tells from the queue row whether it was the right one (a claim that
   * was not takes nothing), and the other runs then.
   */
  private final Map<String, Boolean> perKeyQueues = new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public Mono<StoreResults.Claimed> claim(StoreParams.Claim p) {
    boolean guess = perKeyQueues.containsKey(p.queue());
    return claimOnce(p, guess)
        .flatMap(first -> first.perKey() == guess ? Mono.just(first) : claimOnce(p, first.perKey()))
        .map(r -> r.runs().claimed());
  }

  /** True: {@link #claimAndSettle} is one statement (claim_settling). */
  @Override
  public boolean claimsAndSettlesInOneRoundTrip() {
    return true;
  }

  /**
   * One statement for both (claim_settling), unless the queue is known to have a per-key limit,
   * whose claim needs a transaction of its own (then the settles go first, as the default does).
   * A queue found to have one is claimed again by claim_fair, its settles already applied.
   */
  @Override
  public Mono<StoreResults.ClaimedAndSettled> claimAndSettle(StoreParams.Claim claim, StoreParams.SettleMany settles) {
    if (settles.settles().isEmpty() || perKeyQueues.containsKey(claim.queue())) {
      return StoreDriver.super.claimAndSettle(claim, settles);
    }
    return Mono.defer(() -> {
      record Row(String kind, @Nullable Message message, @Nullable Long restMicros, boolean perKey,
          StoreResults.@Nullable Settled settled) {}
      SettleArrays a = SettleArrays.of(settles.settles());
      Object now = opt(claim.now() != null ? claim.now() : settles.now(), Instant.class);
      return withConnection("claim", c -> rows(c, sql.get("claim_settling"), row -> {
            String kind = text(row, "kind");
            return switch (kind) {
              case "q" -> new Row(kind, null, row.get("rest_us", Long.class), row.get("per_key", Integer.class) != null,
                  null);
              case "s" -> new Row(kind, null, null, false, settled(text(row, "settled")));
              default -> new Row(kind, message(row), null, false, null);
            };
          }, now, claim.queue(), claim.limit(), opt(claim.workerId(), Long.class), millis(claim.lease()),
          a.ids(), a.tokens(), a.kinds(), a.delays(), a.errors()).collectList())
          .singleOrEmpty()
          .flatMap(rows -> {
            List<Message> claimed = new ArrayList<>();
            List<Message> dead = new ArrayList<>();
            List<StoreResults.Settled> done = new ArrayList<>();
            Duration rest = null;
            boolean perKey = false;
            boolean queueFound = false;
            for (Row r : rows) {
              switch (r.kind()) {
                case "q" -> {
                  queueFound = true;
                  rest = r.restMicros() == null ? null : Duration.of(r.restMicros(), ChronoUnit.MICROS);
                  perKey = r.perKey();
                }
                case "s" -> done.add(java.util.Objects.requireNonNull(r.settled()));
                case "c" -> claimed.add(java.util.Objects.requireNonNull(r.message()));
                default -> dead.add(java.util.Objects.requireNonNull(r.message()));
              }
            }
            if (!queueFound) {
              return Mono.error(queueNotFound(claim.queue()));
            }
            if (perKey) {
              perKeyQueues.put(claim.queue(), Boolean.TRUE);
              return claimOnce(claim, true).map(fair -> new StoreResults.ClaimedAndSettled(fair.runs().claimed(), done));
            }
            vacuum.claimed(claimed.size() + dead.size());
            return Mono.just(new StoreResults.ClaimedAndSettled(new StoreResults.Claimed(claimed, dead, rest), done));
          });
    });
  }

  private static StoreResults.Settled settled(String text) {
    return switch (text) {
      case "applied" -> StoreResults.Settled.APPLIED;
      case "archived" -> StoreResults.Settled.ALREADY_ARCHIVED;
      default -> StoreResults.Settled.NOT_HELD;
    };
  }

  /** The arrays a batch of settles binds, in input order. */
  private record SettleArrays(Long[] ids, String[] tokens, String[] kinds, Long[] delays, String[] errors) {
    static SettleArrays of(List<StoreParams.Settle> settles) {
      int n = settles.size();
      SettleArrays a = new SettleArrays(new Long[n], new String[n], new String[n], new Long[n], new String[n]);
      for (int i = 0; i < n; i++) {
        StoreParams.Settle settle = settles.get(i);
        a.ids()[i] = settle.messageId();
        a.tokens()[i] = settle.token().toString();
        a.kinds()[i] = settle.kind().name().toLowerCase(java.util.Locale.ROOT);
        a.delays()[i] = settle.delay() == null ? null : saturatedMillis(settle.delay());
        a.errors()[i] = settle.error();
      }
      return a;
    }
  }

  /** One claim statement: claim_fair (after locking the queue row, in one transaction) or claim. */
  private Mono<ClaimRun> claimOnce(StoreParams.Claim p, boolean fair) {
    return claimRows("claim", fair ? sql.get("claim_fair") : sql.get("claim"), p, row -> null, fair)
        .doOnNext(r -> {
          if (r.perKey()) {
            perKeyQueues.put(p.queue(), Boolean.TRUE);
          } else {
            perKeyQueues.remove(p.queue());
          }
        });
  }

  /** A claim statement's result, and whether the queue has a per-key limit (claim and claim_fair tell). */
  private record ClaimRun(StoreResults.ClaimedRuns runs, boolean perKey) {}

  @Override
  public Mono<StoreResults.ClaimedRuns> claimRuns(StoreParams.ClaimRuns p) {
    return claimRows("claim", sql.get("claim_runs"), p.claim(), row -> {
      if (row.get("r_id", Long.class) == null) {
        return null;
      }
      RunInfo run = run(row, "r_");
      Instant deadline = run.deadline();
      return new StoreResults.RunBegun(run, deadline == null ? null : until(instant(row, "r_now"), deadline),
          history(row.get("r_history", String.class)));
    }, false, sources(p.begin()), targets(p.begin())).map(ClaimRun::runs);
  }

  /**
   * Runs a claim statement; {@code begun} reads a claimed row's begun run, or null. With
   * {@code lockFirst} the statement runs in a transaction that first locks the queue row, so its
   * snapshot is taken after every claim it waited for committed.
   */
  private Mono<ClaimRun> claimRows(String op, String text, StoreParams.Claim p,
      Function<Row, StoreResults.@Nullable RunBegun> begun, boolean lockFirst, Object... extra) {
    record Claimed(String kind, @Nullable Message message, StoreResults.@Nullable RunBegun begun,
        @Nullable Long restMicros, boolean perKey) {}
    Object[] args = new Object[5 + extra.length];
    args[0] = opt(p.now(), Instant.class);
    args[1] = p.queue();
    args[2] = p.limit();
    args[3] = opt(p.workerId(), Long.class);
    args[4] = millis(p.lease());
    System.arraycopy(extra, 0, args, 5, extra.length);
    Function<Connection, Flux<Claimed>> claim = c -> rows(c, text,
        row -> {
          String kind = text(row, "kind");
          return kind.equals("q") ? new Claimed(kind, null, null, row.get("rest_us", Long.class),
                  row.getMetadata().contains("per_key") && row.get("per_key", Integer.class) != null)
              : new Claimed(kind, message(row), kind.equals("c") ? begun.apply(row) : null, null, false);
        }, args);
    Mono<List<Claimed>> all = lockFirst
        ? inTransaction(op, c -> rows(c, sql.get("lock_queue"), row -> 1, p.queue()).then(claim.apply(c).collectList()))
        : withConnection(op, c -> claim.apply(c).collectList()).singleOrEmpty();
    return all
        .flatMap(rows -> {
          if (rows.stream().noneMatch(r -> r.kind().equals("q"))) {
            return Mono.error(queueNotFound(p.queue()));
          }
          // The rows come in the order the claim selected them (priority, then visibility, then id).
          List<Message> claimed = new ArrayList<>();
          List<Message> dead = new ArrayList<>();
          Map<Long, StoreResults.RunBegun> runs = new HashMap<>();
          Duration rest = null;
          boolean perKey = false;
          for (Claimed r : rows) {
            Message m = r.message();
            if (m == null) {
              rest = r.restMicros() == null ? null : Duration.of(r.restMicros(), ChronoUnit.MICROS);
              perKey = r.perKey();
              continue;
            }
            (r.kind().equals("c") ? claimed : dead).add(m);
            if (r.begun() != null) {
              runs.put(m.id(), r.begun());
            }
          }
          vacuum.claimed(claimed.size() + dead.size());
          return Mono.just(new ClaimRun(
              new StoreResults.ClaimedRuns(new StoreResults.Claimed(claimed, dead, rest), runs), perKey));
        });
  }

  @Override
  public Mono<Boolean> archive(StoreParams.LeaseRef p) {
    return update("archive", sql.get("archive"), opt(p.now(), Instant.class), p.messageId(), p.token())
        .map(n -> n == 1);
  }

  @Override
  public Mono<Integer> archiveMany(StoreParams.ArchiveMany p) {
    Long[] ids = p.leases().stream().map(StoreParams.LeaseRef::messageId).toArray(Long[]::new);
    String[] tokens = p.leases().stream().map(l -> l.token().toString()).toArray(String[]::new);
    return update("archive", sql.get("archive_many"), opt(p.now(), Instant.class), ids, tokens).map(Long::intValue);
  }

  @Override
  public Mono<List<StoreResults.Settled>> settleMany(StoreParams.SettleMany p) {
    // Deferred: the arrays are built when subscribed.
    return Mono.defer(() -> {
      List<StoreParams.Settle> settles = p.settles();
      int n = settles.size();
      if (n == 0) {
        return Mono.just(List.<StoreResults.Settled>of());
      }
      SettleArrays a = SettleArrays.of(settles);
      return withConnection("settle", c -> rows(c, sql.get("settle_many"), row -> settled(text(row, "settled")),
          opt(p.now(), Instant.class), a.ids(), a.tokens(), a.kinds(), a.delays(), a.errors()))
          .collectList();
    });
  }

  @Override
  public Mono<Boolean> delete(StoreParams.LeaseRef p) {
    return update("delete", sql.get("delete"), opt(p.now(), Instant.class), p.messageId(), p.token()).map(n -> n == 1);
  }

  @Override
  public Mono<Boolean> release(StoreParams.Release p) {
    StoreParams.LeaseRef l = p.lease();
    return update("release", sql.get("release"), opt(l.now(), Instant.class), l.messageId(), l.token(),
            millis(p.delay()), opt(p.error(), String.class))
        .map(n -> n == 1);
  }

  @Override
  public Mono<Lease> extend(StoreParams.Extend p) {
    StoreParams.LeaseRef l = p.lease();
    return one("extend", sql.get("extend"), row -> new Lease(l.messageId(), l.token(), instant(row, "visible_at")),
        opt(l.now(), Instant.class), l.messageId(), l.token(), millis(p.duration()));
  }

  @Override
  public Mono<List<Lease>> extendMany(StoreParams.ExtendMany p) {
    if (p.leases().isEmpty()) {
      return Mono.just(List.of());
    }
    Long[] ids = p.leases().stream().map(StoreParams.LeaseExtension::messageId).toArray(Long[]::new);
    String[] tokens = p.leases().stream().map(l -> l.token().toString()).toArray(String[]::new);
    Long[] lengths = p.leases().stream().map(l -> saturatedMillis(l.duration())).toArray(Long[]::new);
    return withConnection("extend leases", c -> rows(c, sql.get("extend_many"),
            row -> new Lease(longValue(row, "id"), row.get("lease_token", UUID.class), instant(row, "visible_at")),
            opt(p.now(), Instant.class), ids, tokens, lengths))
        .collectList();
  }

  @Override
  public Mono<Boolean> deadLetter(StoreParams.DeadLetter p) {
    StoreParams.LeaseRef l = p.lease();
    return update("dead-letter", sql.get("dead_letter"), opt(l.now(), Instant.class), l.messageId(), l.token(),
            p.error())
        .map(n -> n == 1);
  }

  @Override
  public Mono<Message> findMessage(long id) {
    return one("get message", sql.get("find_message"), PostgresDriver::message, id);
  }

  @Override
  public Mono<Duration> untilNextVisible(String queue, @Nullable Instant now) {
    return withConnection("find the next due message", c -> rows(c, sql.get("until_next_visible"),
            row -> Optional.ofNullable(row.get("micros", Long.class)), opt(now, Instant.class), queue))
        .next()
        .flatMap(Mono::justOrEmpty)
        .map(micros -> Duration.ofNanos(Math.max(0L, micros) * 1000L));
  }

  @Override
  public Mono<Long> countClaimable(String queue, @Nullable Instant now) {
    return one("count claimable messages", sql.get("count_claimable"), row -> row.get("claimable", Long.class),
        opt(now, Instant.class), queue);
  }

  @Override
  public Flux<Message> listMessages(StoreParams.ListMessages p) {
    // Archived messages live in a table of their own (migration 16).
    String text = p.state() == MessageState.ARCHIVED ? sql.get("list_archived_messages") : sql.get("list_messages");
    return withConnection("list messages", c -> rows(c, text, PostgresDriver::message, p.queue(),
        p.state().name().toLowerCase(Locale.ROOT), p.afterId(), p.limit()));
  }

  @Override
  public Mono<Long> replayDead(StoreParams.Replay p) {
    Object ids = p.ids() == null ? new Null(Long[].class) : p.ids().toArray(Long[]::new);
    return one("replay dead letters", sql.get("replay_dead"),
            row -> longValue(row, "queues") == 0 ? -1L : longValue(row, "replayed"),
            opt(p.now(), Instant.class), p.queue(), ids, new Null(String.class))
        .flatMap(n -> n < 0 ? Mono.error(queueNotFound(p.queue())) : Mono.just(n))
        .doOnNext(n -> {
          if (n > 0) {
            announceQueues(List.of(p.queue()));
          }
        });
  }

  @Override
  public Mono<Long> purgeMessages(StoreParams.PurgeMessages p) {
    if (p.state() == MessageState.LIVE) {
      // Signalled, not thrown: like every driver method this one returns a publisher.
      return Mono.error(new IllegalArgumentException("live messages are purged with purgeQueue"));
    }
    String text = p.state() == MessageState.ARCHIVED ? sql.get("purge_archived") : sql.get("purge_dead");
    return one("purge " + p.state().name().toLowerCase(Locale.ROOT) + " messages", text,
            row -> longValue(row, "queues") == 0 ? -1L : longValue(row, "deleted"),
            opt(p.now(), Instant.class), p.queue(), millis(p.olderThan()), p.limit())
        .flatMap(n -> n < 0 ? Mono.error(queueNotFound(p.queue())) : Mono.just(n));
  }

  // ---------------------------------------------------------------- workers

  @Override
  public Mono<WorkerInfo> registerWorker(StoreParams.RegisterWorker p) {
    return one("register worker", sql.get("register_worker"), PostgresDriver::worker, opt(p.now(), Instant.class),
            p.name(), opt(p.queue(), String.class), p.hostname(), p.pid())
        .switchIfEmpty(Mono.defer(() -> p.queue() == null
            ? Mono.<QueueInfo>empty()
            : findQueue(p.queue()).switchIfEmpty(Mono.error(queueNotFound(p.queue()))))
            .then(Mono.error(() -> new WorkerAlreadyExistsException(p.name(),
                "a worker named '" + p.name() + "' is registered already"))));
  }

  @Override
  public Mono<WorkerStatus> heartbeat(StoreParams.Heartbeat p) {
    return one("heartbeat", sql.get("heartbeat"),
        row -> WorkerStatus.valueOf(text(row, "status").toUpperCase(Locale.ROOT)),
        opt(p.now(), Instant.class), p.workerId());
  }

  @Override
  public Mono<WorkerInfo> setWorkerStatus(StoreParams.SetWorkerStatus p) {
    return one("set worker status", sql.get("set_worker_status"), PostgresDriver::worker, p.workerId(),
        p.status().name().toLowerCase(Locale.ROOT));
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> shutdownWorker(StoreParams.ShutdownWorker p) {
    Object now = opt(p.now(), Instant.class);
    return inTransaction("shutdown worker", c -> rows(c, sql.get("lock_worker"), row -> text(row, "status"),
            p.workerId())
        .singleOrEmpty()
        .flatMap(status -> rows(c, sql.get("count_worker_leases"), row -> longValue(row, "leases"), now, p.workerId())
            .singleOrEmpty()
            .flatMap(leases -> {
              if (leases > 0 && !p.releaseLeases()) {
                return Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases));
              }
              Mono<Long> released = leases == 0
                  ? Mono.just(0L)
                  : rows(c, sql.get("release_worker_leases"), row -> longValue(row, "released"), now, p.workerId())
                      .singleOrEmpty();
              return released.flatMap(count -> updated(c, sql.get("stop_worker"), now, p.workerId())
                  .thenReturn(new StoreResults.WorkerStopped(count)));
            }))
        .defaultIfEmpty(new StoreResults.WorkerMissing()));
  }

  @Override
  public Mono<WorkerInfo> findWorker(long workerId) {
    return one("get worker", sql.get("find_worker"), PostgresDriver::worker, workerId);
  }

  @Override
  public Flux<WorkerInfo> listWorkers(@Nullable String queue) {
    return withConnection("list workers",
        c -> rows(c, sql.get("list_workers"), PostgresDriver::worker, opt(queue, String.class)));
  }

  @Override
  public Flux<WorkerHealth> workerHealth(StoreParams.WorkerHealthQuery p) {
    return withConnection("worker health", c -> rows(c, sql.get("worker_health"),
        row -> new WorkerHealth(worker(row), Duration.ofMillis(Math.max(0, longValue(row, "since_ms"))),
            Boolean.TRUE.equals(row.get("stale", Boolean.class)), longValue(row, "leases")),
        opt(p.now(), Instant.class), millis(p.staleAfter())));
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> deleteWorker(long workerId) {
    return inTransaction("delete worker", c -> rows(c, sql.get("lock_worker"), row -> text(row, "status"), workerId)
        .singleOrEmpty()
        .flatMap(status -> rows(c, sql.get("count_worker_leases"), row -> longValue(row, "leases"),
                new Null(Instant.class), workerId)
            .singleOrEmpty()
            .flatMap(leases -> leases > 0
                ? Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases))
                : updated(c, sql.get("delete_worker"), workerId).thenReturn(new StoreResults.WorkerStopped(0))))
        .defaultIfEmpty(new StoreResults.WorkerMissing()));
  }

  // ---------------------------------------------------------------- metrics

  @Override
  public Flux<QueueMetrics> queueMetrics(StoreParams.MetricsQuery p) {
    return withConnection("queue metrics", c -> rows(c, sql.get("queue_metrics"),
        row -> {
          Long oldest = row.get("oldest_pending_ms", Long.class);
          return new QueueMetrics(text(row, "name"), longValue(row, "pending"), longValue(row, "leased"),
              longValue(row, "delayed"), longValue(row, "archived"), longValue(row, "dead"),
              oldest == null ? null : Duration.ofMillis(Math.max(0, oldest)));
        },
        opt(p.now(), Instant.class), opt(p.queue(), String.class)));
  }

  @Override
  public Flux<StoreResults.ArchivedBucket> queueThroughput(StoreParams.ThroughputQuery p) {
    return withConnection("queue throughput", c -> rows(c, sql.get("queue_throughput"),
        row -> new StoreResults.ArchivedBucket(instant(row, "now"), row.get("bucket", Long.class),
            longValue(row, "archived")),
        opt(p.now(), Instant.class), p.queue(), micros(p.window()), micros(p.bucket())));
  }

  // ---------------------------------------------------------------- maintenance

  // The statements of the maintenance services are in sql/maintenance.sql: each operation is one
  // short autocommit statement, so a batch holds its row locks only while it runs.

  @Override
  public Mono<StoreResults.TurnTaken> takeMaintenanceTurn(StoreParams.MaintenanceTurn p) {
    return Mono.defer(() -> one("take maintenance turn", sql.get("take_turn"), row -> {
          if (!Boolean.TRUE.equals(row.get("known", Boolean.class))) {
            throw new io.pgqrs.SchemaNotInstalledException(schema, "take maintenance turn: schema '" + schema
                + "' has no schedule for maintenance service '" + p.service() + "'; run admin().install()");
          }
          return new StoreResults.TurnTaken(longValue(row, "taken") > 0, instant(row, "now"));
        },
        opt(p.now(), Instant.class), p.service(), p.force(), p.interval().toMillis(), p.instance()));
  }

  @Override
  public Flux<StoreResults.MaintenanceSchedule> maintenanceSchedules() {
    return Flux.defer(() -> withConnection("maintenance schedules", c -> rows(c,
        sql.get("schedules"),
        row -> new StoreResults.MaintenanceSchedule(text(row, "name"), instant(row, "next_run_at"),
            row.get("last_run_at", Instant.class), row.get("last_instance", String.class), longValue(row, "runs")))));
  }

  @Override
  public Mono<StoreResults.WorkersRescued> rescueStaleWorkers(StoreParams.RescueStaleWorkers p) {
    return Mono.defer(() -> withConnection("rescue stale workers", c -> rows(c,
            sql.get("rescue_stale_workers"),
            row -> {
              String[] queues = row.get("queues", String[].class);
              return new StoreResults.WorkersRescued(longValue(row, "workers"), longValue(row, "released"),
                  queues == null ? List.of() : List.of(queues));
            },
            opt(p.now(), Instant.class), p.staleAfter().toMillis(), p.limit())
        .single())
        .singleOrEmpty()
        // The release has committed: consumers woken now find the messages.
        .doOnNext(rescued -> announceQueues(rescued.queuesWoken())));
  }

  @Override
  public Mono<Long> purgeArchived(StoreParams.PurgeBatch p) {
    return purge("purge archived messages", sql.get("purge_archived_batch"), p);
  }

  @Override
  public Mono<Long> purgeDeadLetters(StoreParams.PurgeBatch p) {
    return purge("purge dead letters", sql.get("purge_dead_letters"), p);
  }

  @Override
  public Mono<Long> purgeStoppedWorkers(StoreParams.PurgeBatch p) {
    return purge("purge stopped workers", sql.get("purge_stopped_workers"), p);
  }

  /** One purge statement taking the clock, the retention and the limit, returning {@code purged}. */
  private Mono<Long> purge(String operation, String statement, StoreParams.PurgeBatch p) {
    return Mono.defer(() -> one(operation, statement, row -> longValue(row, "purged"),
        opt(p.now(), Instant.class), p.olderThan().toMillis(), p.limit()));
  }

  @Override
  public Mono<StoreResults.FinishedRunsPurged> purgeFinishedRuns(StoreParams.PurgeBatch p) {
    return Mono.defer(() -> one("purge finished runs", sql.get("purge_finished_runs"),
        row -> new StoreResults.FinishedRunsPurged(longValue(row, "runs"), longValue(row, "steps"),
            longValue(row, "signals")),
        opt(p.now(), Instant.class), p.olderThan().toMillis(), p.limit()));
  }

  @Override
  public Mono<Long> reapRuns(StoreParams.ReapRuns p) {
    record Reaped(long failed, Long @Nullable [] runIds) {}
    return Mono.defer(() -> one("reap runs", sql.get("reap_runs"),
            row -> new Reaped(longValue(row, "failed"), row.get("run_ids", Long[].class)),
            opt(p.now(), Instant.class), p.limit(), new Null(String.class), sources(p.moves()), targets(p.moves())))
        .doOnNext(reaped -> {
          if (reaped.runIds() != null) {
            announceRuns(List.of(reaped.runIds()));
          }
        })
        .map(Reaped::failed);
  }

  // ---------------------------------------------------------------- workflows

  /** The channel announcing finished runs; '#' keeps it apart from every queue's channel. */
  static final String RUNS_CHANNEL_KEY = "#runs";

  /** The key of the channel announcing that runs' events were written (a queue name has no '#'). */
  static final String EVENTS_CHANNEL_KEY = "#events";

  private static RunInfo run(Row row) {
    return run(row, "");
  }

  /** A run from columns named with a prefix (a run's columns beside a message's in one row). */
  private static RunInfo run(Row row, String prefix) {
    String output = row.get(prefix + "output", String.class);
    return new RunInfo(
        longValue(row, prefix + "id"),
        text(row, prefix + "workflow"),
        RunStatus.valueOf(text(row, prefix + "status")),
        Json.parse(text(row, prefix + "input")),
        output == null ? null : Json.parse(output),
        row.get(prefix + "error", String.class),
        row.get(prefix + "idempotency_key", String.class),
        intValue(row, prefix + "attempts"),
        intValue(row, prefix + "failures"),
        instant(row, prefix + "created_at"),
        row.get(prefix + "started_at", Instant.class),
        row.get(prefix + "finished_at", Instant.class),
        row.get(prefix + "deadline_at", Instant.class),
        row.get(prefix + "version", String.class),
        row.get(prefix + "parent_run_id", Long.class),
        row.get(prefix + "forked_from", Long.class));
  }

  private static StepInfo step(Row row) {
    String output = row.get("output", String.class);
    return new StepInfo(
        longValue(row, "run_id"),
        text(row, "step_id"),
        StepStatus.valueOf(text(row, "status")),
        intValue(row, "attempts"),
        output == null ? null : Json.parse(output),
        row.get("error", String.class),
        row.get("wake_at", Instant.class),
        instant(row, "started_at"),
        instant(row, "updated_at"),
        row.get("finished_at", Instant.class),
        row.get("position", String.class));
  }

  /** A run read under its row lock, with its message and whether a worker holds that message's lease. */
  private record LockedRun(RunInfo run, @Nullable Long messageId) {}

  /**
   * Whether a worker holds the locked run's message now, read by a statement after the lock (see
   * run_message_held); false without a message, and not read when the control has no held table.
   */
  private Mono<Boolean> heldNow(Connection c, StoreParams.ControlRun p, LockedRun locked, Object now) {
    Long messageId = locked.messageId();
    if (p.whenHeld() == null || messageId == null) {
      return Mono.just(false);
    }
    return rows(c, sql.get("run_message_held"), row -> Boolean.TRUE.equals(row.get("held", Boolean.class)), now,
        messageId).single();
  }

  private Mono<LockedRun> lockRun(Connection c, long runId, Object now) {
    return rows(c, sql.get("lock_run"), row -> new LockedRun(run(row), row.get("message_id", Long.class)), now, runId)
        .singleOrEmpty();
  }

  /** The sources of a transition table, as the statements take them. */
  private static String[] sources(StoreParams.Moves moves) {
    return names(moves.from());
  }

  /** The targets of a transition table, one per source. */
  private static String[] targets(StoreParams.Moves moves) {
    return names(moves.to());
  }

  private static String[] names(List<RunStatus> statuses) {
    return statuses.stream().map(RunStatus::name).toArray(String[]::new);
  }

  /**
   * The statuses of a finished run, as {@link RunStatus#isFinished()} says: a finished run takes no
   * more step records or signals.
   */
  private static final String[] FINISHED = names(
      java.util.Arrays.stream(RunStatus.values()).filter(RunStatus::isFinished).toList());

  /**
   * After a commit that made work claimable on the queues: wakes this engine's consumers of them at
   * once and has the notifier announce them to every other engine. Never blocks, never fails.
   */
  private void announceQueues(List<String> queues) {
    PostgresListener l = listener;
    for (String queue : queues) {
      if (l != null) {
        l.wakeHere(queue);
      }
      notifier.queue(PostgresListener.channel(schema, queue));
    }
  }

  /** After the runs' finish committed: announces them to every engine's result waiters. Never fails. */
  private void announceRuns(List<Long> runIds) {
    notifier.runs(runIds);
  }

  /**
   * The notifier's statement: one NOTIFY of every channel with its payload, in autocommit (in a
   * transaction of its own behind a transaction-mode pooler). It takes a connection even while the
   * driver closes, since closing waits for the wake-ups of writes that committed before.
   */
  private Mono<Void> sendNotifications(String[] channels, String[] payloads) {
    Function<Connection, Publisher<Integer>> work =
        c -> rows(c, sql.get("notify_batch"), row -> 1, channels, payloads);
    return Flux.usingWhen(pool.create(), c -> pooled != null ? transaction(c, work) : work.apply(c),
            Connection::close)
        .onErrorMap(e -> PostgresErrors.translate("notify", schema, e))
        .then();
  }

  /** This engine's notifier, for tests that count or fail its statements. */
  PostgresNotifier notifier() {
    return notifier;
  }

  @Override
  public Mono<Void> registerWorkflow(StoreParams.RegisterWorkflow p) {
    Object now = opt(p.now(), Instant.class);
    String versionQueue = p.versionQueue();
    return inTransaction("register workflow", c -> updated(c, sql.get("create_queue_if_absent"), now, p.workflow(),
            p.maxAttempts())
        .then(versionQueue == null ? Mono.just(0L)
            : updated(c, sql.get("create_queue_if_absent"), now, versionQueue, p.maxAttempts()))
        .then(updated(c, sql.get("register_workflow"), now, p.workflow()))
        .then());
  }

  @Override
  public Mono<StoreResults.Triggered> triggerRun(StoreParams.TriggerRun p) {
    StoreParams.LeaseTaking lease = p.leaseTo();
    if (lease != null) {
      return triggerLeasedRun(p, lease);
    }
    return triggerQueuedRun(p, this::autocommit, false).doOnNext(triggered -> {
      if (triggered.created()) {
        // Committed already (autocommit): this engine's workers start at once, every other
        // engine's with the notifier's NOTIFY.
        announceQueues(List.of(p.queue()));
      }
    });
  }

  @Override
  public Mono<StoreResults.Triggered> triggerRunInTransaction(StoreParams.TriggerRun p, Object connection) {
    if (p.leaseTo() != null) {
      // A worker handed the run now would run it before the caller commits, or after a rollback.
      return Mono.error(new InvalidArgumentException("leaseTo",
          "a run triggered in the caller's transaction cannot be leased to a worker before that transaction commits"));
    }
    // No wakeHere: the caller has not committed. The trigger's NOTIFY wakes every engine, this one
    // included, when (and only if) the caller commits.
    return triggerQueuedRun(p, callerTransaction(connection), true);
  }

  /**
   * The trigger statement and its visible message (and its NOTIFY at commit if {@code
   * notifyInStatement}), then the keyed run if the key was taken.
   */
  private Mono<StoreResults.Triggered> triggerQueuedRun(StoreParams.TriggerRun p, OnConnection on,
      boolean notifyInStatement) {
    record Inserted(@Nullable Long queueId, @Nullable Long runId) {}
    return on.run("trigger run", c -> rows(c, sql.get("trigger_run"),
            row -> new Inserted(row.get("queue_id", Long.class), row.get("run_id", Long.class)),
            opt(p.now(), Instant.class), p.workflow(), p.queue(), opt(p.version(), String.class), p.inputJson(),
            opt(p.idempotencyKey(), String.class), millis(p.timeout()),
            notifyInStatement ? PostgresListener.channel(schema, p.queue()) : new Null(String.class),
            opt(p.headersJson(), String.class), opt(p.parentRunId(), Long.class), p.cancelWithParent())
            .singleOrEmpty())
        .flatMap(inserted -> {
          if (inserted.queueId() == null) {
            return Mono.error(new WorkflowNotFoundException(p.workflow()));
          }
          if (inserted.runId() != null) {
            return Mono.just(new StoreResults.Triggered(inserted.runId(), true));
          }
          return existingRun(p, on);
        });
  }

  /** The local fast path: the run begun and its message leased to the worker by the trigger's statement. */
  private Mono<StoreResults.Triggered> triggerLeasedRun(StoreParams.TriggerRun p, StoreParams.LeaseTaking lease) {
    record Inserted(@Nullable Long queueId, StoreResults.@Nullable Triggered triggered) {}
    return one("trigger run", sql.get("trigger_leased_run"), row -> {
          Long queueId = row.get("queue_id", Long.class);
          Long runId = row.get("run_id", Long.class);
          if (queueId == null || runId == null) {
            return new Inserted(queueId, null);
          }
          RunInfo run = run(row);
          Instant deadline = run.deadline();
          StoreResults.RunBegun begun = new StoreResults.RunBegun(run,
              deadline == null ? null : until(instant(row, "now"), deadline), List.of());
          return new Inserted(queueId, new StoreResults.Triggered(runId, true, message(row, "m_"), begun));
        },
        opt(p.now(), Instant.class), p.workflow(), p.queue(), opt(p.version(), String.class), p.inputJson(),
        opt(p.idempotencyKey(), String.class), millis(p.timeout()), lease.workerId(), millis(lease.lease()),
        opt(p.headersJson(), String.class), opt(p.parentRunId(), Long.class), p.cancelWithParent())
        .flatMap(inserted -> {
          if (inserted.queueId() == null) {
            return Mono.error(new WorkflowNotFoundException(p.workflow()));
          }
          if (inserted.triggered() != null) {
            vacuum.claimed(1);
            return Mono.just(inserted.triggered());
          }
          return existingRun(p, this::autocommit);
        });
  }

  /**
   * The key is taken: the run that holds it, committed before the trigger's conflict; nothing leased.
   * In the caller's transaction it is read there, so a run keyed earlier in that transaction is found.
   */
  private Mono<StoreResults.Triggered> existingRun(StoreParams.TriggerRun p, OnConnection on) {
    return on.run("trigger run", c -> rows(c, sql.get("run_by_key"), row -> longValue(row, "id"), p.workflow(),
            p.idempotencyKey()).singleOrEmpty())
        .map(runId -> new StoreResults.Triggered(runId, false));
  }

  // ---------------------------------------------------------------- schedules

  private static io.pgqrs.schedule.ScheduleInfo schedule(Row row) {
    return StoreResults.schedule(text(row, "name"), text(row, "cron"), text(row, "zone"), text(row, "target_kind"),
        text(row, "target"), row.get("version", String.class), text(row, "payload"), row.get("timeout_ms", Long.class),
        intValue(row, "missed_max"), Boolean.TRUE.equals(row.get("paused", Boolean.class)),
        instant(row, "next_fire_at"), row.get("last_fired_at", Instant.class), instant(row, "created_at"),
        instant(row, "updated_at"));
  }

  @Override
  public Mono<Instant> currentTime(@Nullable Instant now) {
    return Mono.defer(() -> one("read the clock", sql.get("current_time"), row -> instant(row, "now"),
        opt(now, Instant.class)));
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> createSchedule(StoreParams.CreateSchedule p) {
    return Mono.defer(() -> one("create schedule", sql.get("create_schedule"), PostgresDriver::schedule,
            scheduleArgs(p)))
        .switchIfEmpty(Mono.error(() -> new io.pgqrs.schedule.ScheduleAlreadyExistsException(p.name())));
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> declareSchedule(StoreParams.CreateSchedule p) {
    return Mono.defer(() -> one("declare schedule", sql.get("declare_schedule"), PostgresDriver::schedule,
        scheduleArgs(p)));
  }

  private static Object[] scheduleArgs(StoreParams.CreateSchedule p) {
    return new Object[] {opt(p.now(), Instant.class), p.name(), p.cron(), p.zone(),
        p.workflowTarget() ? "workflow" : "queue", p.target(), opt(p.version(), String.class), p.payloadJson(),
        millis(p.timeout()), p.missedMax(), p.nextFireAt()};
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> findSchedule(String name) {
    return Mono.defer(() -> one("find schedule", sql.get("find_schedule"), PostgresDriver::schedule, name));
  }

  @Override
  public Flux<io.pgqrs.schedule.ScheduleInfo> listSchedules() {
    return Flux.defer(() -> withConnection("list schedules",
        c -> rows(c, sql.get("list_schedules"), PostgresDriver::schedule)));
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> pauseSchedule(StoreParams.PauseSchedule p) {
    return Mono.defer(() -> one(p.paused() ? "pause schedule" : "resume schedule", sql.get("pause_schedule"),
        PostgresDriver::schedule, opt(p.now(), Instant.class), p.name(), p.paused(), opt(p.resumeAt(), Instant.class)));
  }

  @Override
  public Mono<Boolean> deleteSchedule(String name) {
    return Mono.defer(() -> update("delete schedule", sql.get("delete_schedule"), name)).map(n -> n > 0);
  }

  @Override
  public Mono<StoreResults.DueSchedules> dueSchedules(StoreParams.DueSchedules p) {
    record Due(Instant now, @Nullable Instant ahead, io.pgqrs.schedule.@Nullable ScheduleInfo schedule) {}
    return Mono.defer(() -> withConnection("due schedules", c -> rows(c, sql.get("due_schedules"),
            row -> new Due(instant(row, "now"), row.get("ahead", Instant.class),
                row.get("name", String.class) == null ? null : schedule(row)),
            opt(p.now(), Instant.class), p.limit()))
        .collectList()
        .map(rows -> {
          Due first = rows.get(0);
          List<io.pgqrs.schedule.ScheduleInfo> due = new ArrayList<>();
          for (Due d : rows) {
            if (d.schedule() != null) {
              due.add(d.schedule());
            }
          }
          Instant ahead = first.ahead();
          return new StoreResults.DueSchedules(first.now(), due, ahead == null ? null : until(first.now(), ahead));
        }));
  }

  @Override
  public Mono<StoreResults.ScheduleFired> fireSchedule(StoreParams.FireSchedule p) {
    record Target(String kind, String target, @Nullable String version, String payload, @Nullable Long timeoutMs) {}
    record Fired(StoreResults.ScheduleFired result, @Nullable String queue) {}
    Instant newest = p.ticks().isEmpty() ? null : p.ticks().get(p.ticks().size() - 1).at();
    return Mono.defer(() -> inTransaction("fire schedule", c -> rows(c, sql.get("advance_schedule"),
            row -> new Target(text(row, "target_kind"), text(row, "target"), row.get("version", String.class),
                text(row, "payload"), row.get("timeout_ms", Long.class)),
            p.name(), p.expectedNextFireAt(), p.nextFireAt(), opt(newest, Instant.class))
        .singleOrEmpty()
        .flatMap(t -> {
          OnConnection here = onConnection(c);
          boolean workflow = "workflow".equals(t.kind());
          String queue = workflow ? (t.version() == null ? t.target() : t.target() + "@" + t.version()) : t.target();
          return Flux.fromIterable(p.ticks())
              .concatMap(tick -> workflow
                  ? triggerQueuedRun(new StoreParams.TriggerRun(t.target(), queue, t.version(), t.payload(), tick.key(),
                      t.timeoutMs() == null ? null : Duration.ofMillis(t.timeoutMs()), null, p.now()), here, false)
                      .map(StoreResults.Triggered::created)
                  : enqueueRows(new StoreParams.Enqueue(queue, List.of(new StoreParams.NewRow(t.payload(), null, null,
                      tick.key(), 0)), p.now()), here, false)
                      .map(out -> out.get(0).inserted()))
              .filter(Boolean::booleanValue)
              .count()
              .map(created -> new Fired(new StoreResults.ScheduleFired(true, created.intValue()), queue));
        })
        .defaultIfEmpty(new Fired(new StoreResults.ScheduleFired(false, 0), null)))
        .doOnNext(fired -> {
          // Committed: wake the consumers of what the ticks created.
          if (fired.result().created() > 0 && fired.queue() != null) {
            announceQueues(List.of(fired.queue()));
          }
        })
        .map(Fired::result));
  }

  /** Work on a connection the caller holds in its own transaction of this driver's. */
  private static OnConnection onConnection(Connection connection) {
    return new OnConnection() {
      @Override
      public <T> Mono<T> run(String op, Function<Connection, Mono<T>> work) {
        return work.apply(connection);
      }
    };
  }

  @Override
  public Mono<StoreResults.RunBegun> beginRun(StoreParams.BeginRun p) {
    return one("begin run", sql.get("begin_run"), row -> {
      RunInfo run = run(row);
      Instant deadline = run.deadline();
      return new StoreResults.RunBegun(run, deadline == null ? null : until(instant(row, "now"), deadline),
          history(row.get("history", String.class)));
    }, opt(p.now(), Instant.class), p.runId(), sources(p.moves()), targets(p.moves()));
  }

  /** The steps begin_run reads, from its JSON array (null when the run has none). */
  private static List<StoreResults.StepRecord> history(@Nullable String json) {
    if (json == null) {
      return List.of();
    }
    List<StoreResults.StepRecord> steps = new ArrayList<>();
    for (JsonNode step : Json.parse(json)) {
      JsonNode untilWake = step.path("until_wake_us");
      steps.add(new StoreResults.StepRecord(
          step.path("position").textValue(),
          step.path("step_id").asText(),
          StepStatus.valueOf(step.path("status").asText()),
          step.path("output").textValue(),
          step.path("output_type").textValue(),
          step.path("error").textValue(),
          step.path("attempts").asInt(),
          untilWake.isNumber() ? Duration.of(untilWake.asLong(), ChronoUnit.MICROS) : null,
          step.path("awaiting").textValue(),
          step.path("completion").asInt(),
          step.path("signalled").asBoolean()));
    }
    return steps;
  }

  @Override
  public Mono<Boolean> suspendRun(StoreParams.SuspendRun p) {
    Object now = opt(p.lease().now(), Instant.class);
    record Suspended(boolean dueNow, String queue) {}
    return inTransaction("suspend run", c -> lockRun(c, p.runId(), now)
        .flatMap(locked -> locked.messageId() == null ? Mono.<Suspended>empty()
            : rows(c, sql.get("suspend_message"),
                    row -> new Suspended(Boolean.TRUE.equals(row.get("due_now", Boolean.class)), text(row, "queue")),
                    now, p.runId(), locked.messageId(), p.lease().token(), micros(p.wakeAfter()),
                    names(p.wakeAtOnce()), names(p.parkedUntilResumed()))
                .singleOrEmpty()
                .flatMap(suspended -> p.failed()
                    ? updated(c, sql.get("count_failure"), now, p.runId()).thenReturn(suspended)
                    : Mono.just(suspended))))
        // A message due at once (what it waits for came while it was held) wakes its consumers
        // after the commit, as the signal or control that came would have woken them.
        .doOnNext(suspended -> {
          if (suspended.dueNow()) {
            announceQueues(List.of(suspended.queue()));
          }
        })
        .map(suspended -> true)
        .defaultIfEmpty(false);
  }

  @Override
  public Mono<RunStatus> finishRun(StoreParams.FinishRun p) {
    Object now = opt(p.now(), Instant.class);
    if (p.lease() != null) {
      return finishRuns(new StoreParams.FinishRuns(List.of(p), p.now()))
          .flatMap(finished -> Mono.justOrEmpty(finished.get(0).status()));
    }
    return inTransaction("finish run", c -> lockRun(c, p.runId(), now)
        // A status that is not a source of the table does not move: nothing changes.
        .filter(locked -> p.moves().target(locked.run().status()) != null)
        .flatMap(locked -> {
          // No worker holds the message: archive it if it is still live, whoever held it last.
          Mono<Long> archived = locked.messageId() == null ? Mono.just(0L)
              : updated(c, sql.get("archive_unleased"), now, locked.messageId());
          return archived
              .then(rows(c, sql.get("finish_run"), row -> RunStatus.valueOf(text(row, "status")), now, p.runId(),
                  sources(p.moves()), targets(p.moves()), opt(p.outputJson(), String.class),
                  opt(p.error(), String.class)).singleOrEmpty());
        }))
        .doOnNext(status -> announceRuns(List.of(p.runId())));
  }

  @Override
  public Mono<List<StoreResults.RunFinished>> finishRuns(StoreParams.FinishRuns p) {
    // Deferred: the arrays are built when subscribed.
    return Mono.defer(() -> {
      List<StoreParams.FinishRun> runs = p.runs();
      int n = runs.size();
      if (n == 0) {
        return Mono.just(List.<StoreResults.RunFinished>of());
      }
      Long[] runIds = new Long[n];
      String[] tokens = new String[n];
      String[] outputs = new String[n];
      String[] errors = new String[n];
      List<Long> tableOrdinals = new ArrayList<>();
      List<String> tableSources = new ArrayList<>();
      List<String> tableTargets = new ArrayList<>();
      StepColumns tail = new StepColumns();
      for (int i = 0; i < n; i++) {
        StoreParams.FinishRun run = runs.get(i);
        StoreParams.LeaseRef lease = Objects.requireNonNull(run.lease(), "a batched finish needs the run's lease");
        runIds[i] = run.runId();
        tokens[i] = lease.token().toString();
        outputs[i] = run.outputJson();
        errors[i] = run.error();
        for (int m = 0; m < run.moves().from().size(); m++) {
          tableOrdinals.add(i + 1L);
          tableSources.add(run.moves().from().get(m).name());
          tableTargets.add(run.moves().to().get(m).name());
        }
        for (StoreParams.RecordStep step : run.steps()) {
          tail.add(i + 1L, step);
        }
      }
      return withConnection("finish runs", c -> rows(c, sql.get("finish_leased_runs"), row -> {
            String status = row.get("status", String.class);
            return new FinishedRow(new StoreResults.RunFinished(longValue(row, "run_id"),
                status == null ? null : RunStatus.valueOf(status)), Boolean.TRUE.equals(row.get("awaited", Boolean.class)));
          }, opt(p.now(), Instant.class), runIds, tokens, outputs, errors, tableOrdinals.toArray(Long[]::new),
          tableSources.toArray(String[]::new), tableTargets.toArray(String[]::new), new Null(String.class),
          tail.ordinals.toArray(Long[]::new), tail.positions.toArray(String[]::new),
          tail.stepIds.toArray(String[]::new), tail.statuses.toArray(String[]::new),
          tail.outputs.toArray(String[]::new), tail.outputTypes.toArray(String[]::new),
          tail.errors.toArray(String[]::new), tail.attempts.toArray(Integer[]::new),
          tail.completions.toArray(Integer[]::new), tail.ranMicros.toArray(Long[]::new)))
          .collectList()
          .map(rows -> {
            // Only awaited runs are announced: nobody outside this engine waits for the others, and
            // a NOTIFY is one more committed statement per run (see await_runs).
            announceRuns(rows.stream().filter(r -> r.awaited() && r.finished().status() != null)
                .map(r -> r.finished().runId()).toList());
            return rows.stream().map(FinishedRow::finished).toList();
          });
    });
  }

  /** One row of finish_leased_runs: how the run ended, and whether anyone outside awaits it. */
  private record FinishedRow(StoreResults.RunFinished finished, boolean awaited) {}

  /**
   * Step records as the statements that write them take them, one array per column: record_steps
   * every column, finish_leased_runs a tail's with the ordinal of its finish.
   */
  private static final class StepColumns {
    final List<Long> ordinals = new ArrayList<>();
    final List<Long> runIds = new ArrayList<>();
    final List<Long> messageIds = new ArrayList<>();
    final List<String> tokens = new ArrayList<>();
    final List<String> positions = new ArrayList<>();
    final List<String> stepIds = new ArrayList<>();
    final List<String> statuses = new ArrayList<>();
    final List<@Nullable String> outputs = new ArrayList<>();
    final List<@Nullable String> outputTypes = new ArrayList<>();
    final List<@Nullable String> errors = new ArrayList<>();
    final List<Integer> attempts = new ArrayList<>();
    final List<@Nullable Long> wakeMicros = new ArrayList<>();
    final List<@Nullable String> awaiting = new ArrayList<>();
    final List<Integer> completions = new ArrayList<>();
    final List<Long> ranMicros = new ArrayList<>();

    /** Adds a record, its input ordinal in the statement's batch (1-based) first. */
    void add(long ordinal, StoreParams.RecordStep step) {
      ordinals.add(ordinal);
      runIds.add(step.runId());
      messageIds.add(step.lease().messageId());
      tokens.add(step.lease().token().toString());
      positions.add(step.position());
      stepIds.add(step.stepId());
      statuses.add(step.status().name());
      outputs.add(step.outputJson());
      outputTypes.add(step.outputType());
      errors.add(step.error());
      attempts.add(step.attempts());
      wakeMicros.add(step.wakeAfter() == null ? null : (Long) micros(step.wakeAfter()));
      awaiting.add(step.awaiting());
      completions.add(step.completion());
      ranMicros.add((Long) micros(step.ranFor()));
    }
  }

  @Override
  public Mono<RunInfo> signalRun(StoreParams.SignalRun p) {
    Object now = opt(p.now(), Instant.class);
    return inTransaction("signal run", c -> lockRun(c, p.runId(), now)
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
        .flatMap(locked -> {
          if (locked.run().status().isFinished()) {
            return Mono.error(new RunStateException(p.runId(), locked.run().status(), "signal"));
          }
          // A paused run stays parked until it is resumed (SuspendRun's parkedUntilResumed); the
          // resume wakes it to take the signal.
          Flux<String> woken = locked.messageId() == null || locked.run().status() == RunStatus.PAUSED ? Flux.empty()
              : rows(c, sql.get("wake_waiting"), row -> text(row, "queue"), now, locked.messageId(), p.runId(),
                  p.name());
          return updated(c, sql.get("insert_signal"), now, p.runId(), p.name(), p.valueJson())
              .thenMany(woken)
              .collectList()
              .map(queues -> new Committed(locked.run(), queues, null));
        }))
        .doOnNext(this::announce)
        .map(Committed::run);
  }

  /**
   * A run as a transaction left it, with what to announce once it has committed: the queues whose
   * messages it made due, and the run itself if it finished.
   */
  private record Committed(RunInfo run, List<String> queuesWoken, @Nullable Long finishedRun) {}

  private void announce(Committed committed) {
    announceQueues(committed.queuesWoken());
    if (committed.finishedRun() != null) {
      announceRuns(List.of(committed.finishedRun()));
    }
  }

  /**
   * Pauses, resumes or cancels a run by the tables it is given, as {@link StoreParams.ControlRun}
   * says: under the run's lock, a status listed unchanged returns the run as it is; otherwise the
   * table is picked ({@code whenUnstarted} for a run never begun, else {@code whenHeld} while a
   * worker holds the run's message, else {@code moves}) and the status moves to its target, or the
   * control fails when the status is not a source. What follows depends on the target alone.
   */
  @Override
  public Mono<RunInfo> controlRun(StoreParams.ControlRun p) {
    Object now = opt(p.now(), Instant.class);
    return inTransaction("control run", c -> lockRun(c, p.runId(), now)
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
        .flatMap(locked -> {
          RunInfo run = locked.run();
          RunStatus from = run.status();
          if (p.unchanged().contains(from)) {
            return Mono.just(new Committed(run, List.of(), null));
          }
          return heldNow(c, p, locked, now).flatMap(held -> {
          StoreParams.Moves table = p.whenUnstarted() != null && run.startedAt() == null ? p.whenUnstarted()
              : p.whenHeld() != null && held ? p.whenHeld()
              : p.moves();
          RunStatus to = table.target(from);
          if (to == null) {
            return Mono.error(new RunStateException(p.runId(), from, p.action().name().toLowerCase(Locale.ROOT)));
          }
          Long messageId = locked.messageId();
          Mono<Long> moved = updated(c, sql.get("set_run_status"), now, p.runId(), to.name(),
              opt(p.reason(), String.class), from.name(), to.isFinished());
          Mono<List<String>> follows;
          Long finished = null;
          if (to == RunStatus.CANCELLED) {
            // Ended: its live message is archived, whoever holds it, and its end announced after commit.
            follows = (messageId == null ? Mono.just(0L) : updated(c, sql.get("archive_live"), now, messageId))
                .thenReturn(List.of());
            finished = p.runId();
          } else if (from == RunStatus.PAUSED && (to == RunStatus.QUEUED || to == RunStatus.RUNNING)) {
            // Back from a pause: its parked message is due now, on the queue it is on.
            follows = messageId == null ? Mono.just(List.of())
                : rows(c, sql.get("wake_run"), row -> text(row, "queue"), now, messageId).collectList();
          } else {
            follows = Mono.just(List.of());
          }
          Long finishedRun = finished;
          return moved.then(follows)
              .flatMap(queues -> rows(c, sql.get("find_run"), PostgresDriver::run, p.runId()).singleOrEmpty()
                  .map(found -> new Committed(found, queues, finishedRun)));
          });
        }))
        .doOnNext(this::announce)
        .map(Committed::run);
  }

  @Override
  public Mono<RunInfo> restartRun(StoreParams.RestartRun p) {
    Object now = opt(p.now(), Instant.class);
    return inTransaction("restart run", c -> lockRun(c, p.runId(), now)
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
        .flatMap(locked -> {
          RunStatus from = locked.run().status();
          RunStatus to = p.moves().target(from);
          if (to == null) {
            return Mono.error(new RunStateException(p.runId(), from, "restart"));
          }
          return rows(c, sql.get("restart_run"), row -> longValue(row, "restarted"), now, p.runId(), p.queue(),
                  from.name(), to.name())
              .single()
              .flatMap(restarted -> restarted == 0
                  ? Mono.<Committed>error(new WorkflowNotFoundException(locked.run().workflow()))
                  : rows(c, sql.get("find_run"), PostgresDriver::run, p.runId()).single()
                      .map(run -> new Committed(run, List.of(p.queue()), null)));
        }))
        .doOnNext(this::announce)
        .map(Committed::run);
  }

  @Override
  public Mono<RunInfo> forkRun(StoreParams.ForkRun p) {
    Object now = opt(p.now(), Instant.class);
    return inTransaction("fork run", c -> lockRun(c, p.runId(), now)
        .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
        .flatMap(locked -> {
          RunStatus from = locked.run().status();
          if (!p.forkable().contains(from)) {
            return Mono.error(new RunStateException(p.runId(), from, "fork"));
          }
          record Forked(@Nullable RunInfo run, boolean stepFound) {}
          return rows(c, sql.get("fork_run"), row -> new Forked(row.get("id", Long.class) == null ? null : run(row),
                  longValue(row, "step_found") > 0), now, p.runId(), p.fromStepId(), p.queue())
              .single()
              .flatMap(forked -> {
                if (!forked.stepFound()) {
                  return Mono.error(new InvalidArgumentException("fromStep", "fromStep '" + p.fromStepId()
                      + "' is not a step of run " + p.runId()));
                }
                RunInfo run = forked.run();
                return run == null ? Mono.error(new WorkflowNotFoundException(locked.run().workflow()))
                    : Mono.just(new Committed(run, List.of(p.queue()), null));
              });
        }))
        .doOnNext(this::announce)
        .map(Committed::run);
  }

  @Override
  public Mono<RunInfo> findRun(long runId) {
    return one("find run", sql.get("find_run"), PostgresDriver::run, runId);
  }

  @Override
  public Flux<RunInfo> listRuns(StoreParams.ListRuns p) {
    RunQuery q = p.query();
    return withConnection("list runs", c -> rows(c, sql.get("list_runs"), PostgresDriver::run,
        opt(q.workflow(), String.class), opt(q.status() == null ? null : q.status().name(), String.class),
        opt(q.createdFrom(), Instant.class), opt(q.createdTo(), Instant.class), opt(q.beforeId(), Long.class),
        q.limit(), opt(q.parent(), Long.class)));
  }

  @Override
  public Flux<StoreResults.UncancelledChild> uncancelledChildren(StoreParams.CancelledParentsChildren p) {
    return withConnection("list uncancelled children", c -> rows(c, sql.get("uncancelled_children"),
        row -> new StoreResults.UncancelledChild(longValue(row, "id"), longValue(row, "parent_run_id")), p.limit(),
        names(p.parentStatuses()), names(p.childStatuses())));
  }

  @Override
  public Flux<Long> childrenCancelledWithParent(long parentRunId) {
    return withConnection("list children", c -> rows(c, sql.get("children_cancelled_with_parent"),
        row -> longValue(row, "id"), parentRunId));
  }

  @Override
  public Mono<Boolean> linkChildRun(StoreParams.LinkChildRun p) {
    return update("link child run", sql.get("link_child_run"), p.childRunId(), p.parentRunId(),
        p.cancelWithParent()).map(n -> n > 0);
  }

  @Override
  public Flux<StepInfo> listSteps(long runId) {
    return withConnection("list steps", c -> rows(c, sql.get("list_steps"), PostgresDriver::step, runId));
  }

  @Override
  public Flux<Long> runsFinished() {
    PostgresListener l = listener;
    if (l == null) {
      return Flux.never();
    }
    // A payload names one run or several, separated by commas (see PostgresNotifier); an empty one
    // follows a new LISTEN.
    return l.notifications(RUNS_CHANNEL_KEY)
        .concatMapIterable(PostgresDriver::runIds);
  }

  /** The run ids of a finished-runs payload; an empty or unreadable payload means "look at every run". */
  static List<Long> runIds(String payload) {
    if (payload.isEmpty()) {
      return List.of(-1L);
    }
    List<Long> ids = new ArrayList<>();
    try {
      for (String id : payload.split(",")) {
        ids.add(Long.parseLong(id.trim()));
      }
    } catch (NumberFormatException e) {
      return List.of(-1L);
    }
    return ids;
  }

  @Override
  public Flux<String> wakeups(String queue) {
    PostgresListener l = listener;
    return l == null ? Flux.never() : l.wakeups(queue);
  }

  /**
   * One VACUUM of pgqrs_messages (see {@link PostgresHotTableVacuum}) on a connection of its own,
   * outside the pool, so a vacuum of a few seconds holds none of the pool's connections; in
   * autocommit, also behind a transaction-mode pooler, since VACUUM runs in no transaction block.
   */
  private Mono<Void> vacuumMessages() {
    return Mono.usingWhen(Mono.defer(() -> closed.get()
                ? Mono.error(new StoreUnavailableException("vacuum", "the store is closed", null))
                : Mono.from(pool.unwrap().create())),
            c -> execute(c, sql.get("vacuum_messages")),
            Connection::close)
        .onErrorMap(e -> PostgresErrors.translate("vacuum", schema, e));
  }

  @Override
  public Mono<Void> close() {
    // The notifier first: the wake-ups of writes that committed before closing still go out.
    return Mono.defer(() -> closed.compareAndSet(false, true)
        ? Mono.fromRunnable(vacuum::close).then(notifier.close())
            .then(listener == null ? Mono.<Void>empty() : listener.close())
            .then(pool.disposeLater())
        : Mono.empty());
  }

  @Override
  public Mono<List<StoreResults.StepWritten>> recordSteps(StoreParams.RecordSteps p) {
    // Deferred: the arrays are built when subscribed.
    return Mono.defer(() -> withConnection("record steps",
            c -> writeSteps(c, p.steps(), opt(p.now(), Instant.class)).flux())
        .singleOrEmpty());
  }

  /** Runs record_steps for a batch on a connection: one result per record, in the order given. */
  private Mono<List<StoreResults.StepWritten>> writeSteps(Connection c, List<StoreParams.RecordStep> steps,
      Object now) {
    StepColumns columns = new StepColumns();
    for (int i = 0; i < steps.size(); i++) {
      columns.add(i + 1L, steps.get(i));
    }
    return rows(c, sql.get("record_steps"), row -> {
          String status = row.get("run_status", String.class);
          return new StoreResults.StepWritten(Boolean.TRUE.equals(row.get("written", Boolean.class)),
              status == null ? null : RunStatus.valueOf(status));
        },
        now, columns.runIds.toArray(Long[]::new), columns.messageIds.toArray(Long[]::new),
        columns.tokens.toArray(String[]::new), columns.positions.toArray(String[]::new),
        columns.stepIds.toArray(String[]::new), columns.statuses.toArray(String[]::new),
        columns.outputs.toArray(String[]::new), columns.outputTypes.toArray(String[]::new),
        columns.errors.toArray(String[]::new), columns.attempts.toArray(Integer[]::new),
        columns.wakeMicros.toArray(Long[]::new), columns.awaiting.toArray(String[]::new),
        columns.completions.toArray(Integer[]::new), columns.ranMicros.toArray(Long[]::new), FINISHED)
        .collectList();
  }

  @Override
  public Mono<StoreResults.SignalTaken> takeSignal(StoreParams.TakeSignal p) {
    StoreParams.LeaseRef l = p.lease();
    return one("take signal", sql.get("take_run_signal"),
        row -> new StoreResults.SignalTaken(row.get("value", String.class), longValue(row, "held") == 1),
        opt(l.now(), Instant.class), p.runId(), l.messageId(), l.token(), p.position(), p.stepId(), p.name(),
        p.completion(), FINISHED);
  }

  @Override
  public Mono<StoreResults.StepWritten> setEvent(StoreParams.SetEvent p) {
    StoreParams.LeaseRef l = p.lease();
    return one("set event", sql.get("set_run_event"), row -> {
          String status = row.get("run_status", String.class);
          return new StoreResults.StepWritten(Boolean.TRUE.equals(row.get("written", Boolean.class)),
              status == null ? null : RunStatus.valueOf(status));
        }, opt(l.now(), Instant.class), p.runId(), l.messageId(), l.token(), p.position(), p.stepId(), p.key(),
        p.valueJson(), p.completion(), FINISHED)
        // Other engines' readers wake on the channel; this engine's were woken in process.
        .doOnNext(written -> {
          if (written.written()) {
            notifier.queue(PostgresListener.channel(schema, EVENTS_CHANNEL_KEY));
          }
        });
  }

  @Override
  public Flux<StoreResults.RunSignal> listSignals(StoreParams.ListSignals p) {
    return withConnection("list signals", c -> rows(c, sql.get("list_run_signals"),
        row -> new StoreResults.RunSignal(longValue(row, "id"), longValue(row, "run_id"), text(row, "name"),
            text(row, "value"), instant(row, "sent_at"), row.get("consumed_by", String.class)),
        p.runId(), p.afterId(), p.limit()));
  }

  @Override
  public Flux<StoreResults.RunEvent> listEvents(StoreParams.ListEvents p) {
    return Flux.defer(() -> p.runIds().isEmpty() ? Flux.<StoreResults.RunEvent>empty()
        : withConnection("list events", c -> rows(c, sql.get("list_run_events"),
            row -> new StoreResults.RunEvent(longValue(row, "run_id"), longValue(row, "seq"), text(row, "key"),
                text(row, "value"), instant(row, "created_at")),
            p.runIds().toArray(Long[]::new), p.afterSeqs().toArray(Long[]::new), p.limit())));
  }

  @Override
  public Flux<Long> eventsWritten() {
    PostgresListener l = listener;
    // The payload names the writing engine, not the run: every reader looks at all its runs.
    return l == null ? Flux.never() : l.notifications(EVENTS_CHANNEL_KEY).map(payload -> -1L);
  }

  @Override
  public Flux<RunInfo> findRuns(List<Long> runIds) {
    return Flux.defer(() -> runIds.isEmpty() ? Flux.<RunInfo>empty()
        : withConnection("find runs", c -> rows(c, sql.get("find_runs"), PostgresDriver::run,
            (Object) runIds.toArray(Long[]::new))));
  }

  @Override
  public Flux<RunInfo> awaitRuns(List<Long> runIds) {
    return Flux.defer(() -> runIds.isEmpty() ? Flux.<RunInfo>empty()
        : withConnection("await runs", c -> rows(c, sql.get("await_runs"), PostgresDriver::run,
            (Object) runIds.toArray(Long[]::new))));
  }

  @Override
  public <T> Mono<T> transactionalStep(StoreParams.RecordStep step, @Nullable Instant now,
      Function<Object, Mono<T>> work, Function<T, String> serialize) {
    return inTransaction("transactional step", c -> work.apply(c)
        .map(Optional::of)
        .defaultIfEmpty(Optional.empty())
        .flatMap(value -> writeSteps(c, List.of(new StoreParams.RecordStep(step.runId(), step.lease(),
                step.position(), step.stepId(), StepStatus.SUCCESS, value.map(serialize).orElse(null),
                value.map(v -> v.getClass().getName()).orElse(null), null, step.attempts(), null, null,
                step.completion(), step.ranFor())), opt(now, Instant.class))
            // Failing here rolls the caller's writes back with the record.
            .flatMap(written -> written.get(0).written() ? Mono.justOrEmpty(value)
                : Mono.error(new StoreResults.StepLeaseLost(step.stepId())))));
  }
}
