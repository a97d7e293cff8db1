package io.pgqrs.sqlite;

import io.pgqrs.Capabilities;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.internal.Json;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The SQLite-dialect store, on any {@link SqlExecutor}. Instants are stored as microseconds since
 * the epoch and come from the engine's clock (there is no shared server clock). Claims need no
 * SKIP LOCKED: the executor serialises every write.
 */
final class SqliteDriver implements StoreDriver {

  /** The migrations this library ships for SQLite, in order; version = position + 1. */
  static final List<String> MIGRATION_FILES = readLines("/io/pgqrs/sqlite/migrations/index");

  private static final String MESSAGE_COLUMNS = """
      m.id, m.payload, m.state, m.priority, m.attempts, m.enqueued_at, m.visible_at, m.lease_token,
      m.lease_owner, m.dedup_key, m.last_error, m.archived_at, m.dead_at""";
  private static final String RETURNING_MESSAGE = """
      RETURNING id, payload, state, priority, attempts, enqueued_at, visible_at, lease_token, lease_owner,
      dedup_key, last_error, archived_at, dead_at""";
  private static final String WORKER_SELECT = """
      SELECT w.id, w.name, q.name AS queue, w.hostname, w.pid, w.status, w.started_at, w.heartbeat_at,
             w.stopped_at
      FROM pgqrs_workers w LEFT JOIN pgqrs_queues q ON q.id = w.queue_id""";
  /** A random version-4 UUID in text form, per row. */
  private static final String NEW_TOKEN = """
      lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
            || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
            || hex(randomblob(6)))""";
  private static final String FENCED =
      "id = ? AND lease_token = ? AND state = 'live' AND visible_at > ?";
  private static final String LIVE_LEASE = "state = 'live' AND lease_token IS NOT NULL AND visible_at > ?";
  private static final List<String> EXPECTED_OBJECTS = List.of("pgqrs_migrations", "pgqrs_queues",
      "pgqrs_workers", "pgqrs_messages", "pgqrs_messages_claim_idx", "pgqrs_messages_dedup_idx",
      "pgqrs_messages_owner_idx", "pgqrs_messages_archived_idx", "pgqrs_messages_dead_idx",
      "pgqrs_workers_queue_idx", "pgqrs_sweeps", "pgqrs_messages_archived_at_idx");

  private final SqlExecutor db;
  /** In-process wake-ups: other processes sharing the file are seen by polling only. */
  private final Sinks.Many<String> woken = Sinks.many().multicast().directBestEffort();
  /** In-process announcements of finished runs, emitted after the commit that finished them. */
  private final Sinks.Many<Long> finished = Sinks.many().multicast().directBestEffort();
  private final Capabilities capabilities;
  private final String where;
  private final Clock clock;
  /**
   * The maintenance statements, read from the class path once, on a thread that may block: a
   * driver is made, and used, on non-blocking threads (a Netty event loop for Turso).
   */
  private static final Mono<io.pgqrs.internal.SqlStatements> MAINTENANCE_SQL = Mono
      .fromCallable(() -> io.pgqrs.internal.SqlStatements.load(SqliteDriver.class,
          List.of("/io/pgqrs/sqlite/sql/maintenance.sql"), java.util.Map.of()))
      .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
      .cache();

  SqliteDriver(SqlExecutor db, Capabilities capabilities, String where, Clock clock) {
    this.db = db;
    this.capabilities = capabilities;
    this.where = where;
    this.clock = clock;
  }

  private static List<String> readLines(String path) {
    return Arrays.stream(readResource(path).split("\n")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  static String readResource(String path) {
    try (InputStream in = SqliteDriver.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Splits a migration into statements: comments dropped, split at semicolons ending a line. */
  static List<String> statementsOf(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.trim().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    return Arrays.stream(text.toString().split(";\\s*\n")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public String schema() {
    return "main";
  }

  // ---------------------------------------------------------------- time and mapping

  private long now(@Nullable Instant override) {
    return micros(override != null ? override : clock.instant());
  }

  static long micros(Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000L);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }

  private static @Nullable Instant instantOrNull(SqlRow row, String column) {
    Long v = row.longOrNull(column);
    return v == null ? null : instant(v);
  }

  private static Message message(SqlRow row, String queue) {
    String token = row.stringOrNull("lease_token");
    return new Message(
        row.longValue("id"),
        queue,
        Json.parse(row.string("payload")),
        MessageState.valueOf(row.string("state").toUpperCase(Locale.ROOT)),
        row.intValue("priority"),
        row.intValue("attempts"),
        instant(row.longValue("enqueued_at")),
        instant(row.longValue("visible_at")),
        token == null ? null : UUID.fromString(token),
        row.longOrNull("lease_owner"),
        row.stringOrNull("dedup_key"),
        row.stringOrNull("last_error"),
        instantOrNull(row, "archived_at"),
        instantOrNull(row, "dead_at"));
  }

  private static QueueInfo queue(SqlRow row) {
    return new QueueInfo(row.longValue("id"), row.string("name"), row.intValue("max_attempts"),
        instant(row.longValue("created_at")));
  }

  private static WorkerInfo worker(SqlRow row) {
    return new WorkerInfo(row.longValue("id"), row.string("name"), row.stringOrNull("queue"),
        row.string("hostname"), row.longValue("pid"),
        WorkerStatus.valueOf(row.string("status").toUpperCase(Locale.ROOT)),
        instant(row.longValue("started_at")), instant(row.longValue("heartbeat_at")),
        instantOrNull(row, "stopped_at"));
  }

  private static QueueNotFoundException queueNotFound(String queue) {
    return new QueueNotFoundException(queue, "queue '" + queue + "' does not exist");
  }

  private static <T> Mono<T> first(Mono<List<SqlRow>> rows, java.util.function.Function<SqlRow, T> mapper) {
    return rows.flatMap(list -> list.isEmpty() ? Mono.empty() : Mono.just(mapper.apply(list.get(0))));
  }

  private static String ids(List<Long> ids) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < ids.size(); i++) {
      json.append(i == 0 ? "" : ",").append(ids.get(i));
    }
    return json.append(']').toString();
  }

  private Mono<SqlRow> requireQueueRow(SqlSession s, String queue) {
    return first(s.query("SELECT id, max_attempts FROM pgqrs_queues WHERE name = ?", queue), r -> r)
        .switchIfEmpty(Mono.error(() -> queueNotFound(queue)));
  }

  // ---------------------------------------------------------------- schema

  @Override
  public Mono<Void> install() {
    return db.transaction("install", s -> s.script(List.of("""
            CREATE TABLE IF NOT EXISTS pgqrs_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT    NOT NULL,
                applied_at INTEGER NOT NULL)"""))
        .then(s.query("SELECT version FROM pgqrs_migrations"))
        .flatMap(applied -> {
          List<Long> done = applied.stream().map(r -> r.longValue("version")).toList();
          return Flux.range(1, MIGRATION_FILES.size())
              .filter(v -> !done.contains((long) v))
              .concatMap(v -> {
                String file = MIGRATION_FILES.get(v - 1);
                return s.script(statementsOf(readResource("/io/pgqrs/sqlite/migrations/" + file)))
                    .then(s.update("INSERT INTO pgqrs_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        v, file, now(null)));
              })
              .then(Mono.just(true));
        }))
        .then();
  }

  @Override
  public Mono<SchemaReport> verify() {
    return db.statements("verify", s -> s.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
        .flatMap(rows -> {
          List<String> present = rows.stream().map(r -> r.string("name")).toList();
          List<String> missing = EXPECTED_OBJECTS.stream().filter(o -> !present.contains(o)).toList();
          Mono<Integer> version = present.contains("pgqrs_migrations")
              ? s.query("SELECT coalesce(max(version), 0) AS v FROM pgqrs_migrations").map(r -> r.get(0).intValue("v"))
              : Mono.just(0);
          return version.map(v -> new SchemaReport(where, v, MIGRATION_FILES.size(), missing));
        }));
  }

  @Override
  public Mono<Void> uninstall() {
    return db.transaction("uninstall", s -> s.script(List.of(
            "DROP TABLE IF EXISTS pgqrs_signals", "DROP TABLE IF EXISTS pgqrs_steps",
            "DROP TABLE IF EXISTS pgqrs_runs", "DROP TABLE IF EXISTS pgqrs_workflows",
            "DROP TABLE IF EXISTS pgqrs_sweeps",
            "DROP TABLE IF EXISTS pgqrs_messages", "DROP TABLE IF EXISTS pgqrs_workers",
            "DROP TABLE IF EXISTS pgqrs_queues", "DROP TABLE IF EXISTS pgqrs_migrations"))
        .thenReturn(true))
        .then();
  }

  // ---------------------------------------------------------------- queues

  @Override
  public Mono<QueueInfo> createQueue(StoreParams.CreateQueue p) {
    return db.statements("create queue", s -> first(s.query("""
            INSERT INTO pgqrs_queues (name, max_attempts, created_at) VALUES (?, ?, ?)
            ON CONFLICT (name) DO NOTHING
            RETURNING id, name, max_attempts, created_at""", p.queue(), p.maxAttempts(), now(p.now())),
            SqliteDriver::queue))
        .switchIfEmpty(Mono.error(() ->
            new QueueAlreadyExistsException(p.queue(), "queue '" + p.queue() + "' exists already")));
  }

  @Override
  public Mono<QueueInfo> findQueue(String queue) {
    return db.statements("get queue", s -> first(s.query(
        "SELECT id, name, max_attempts, created_at FROM pgqrs_queues WHERE name = ?", queue), SqliteDriver::queue));
  }

  @Override
  public Flux<QueueInfo> listQueues() {
    return db.statements("list queues", s -> s.query(
            "SELECT id, name, max_attempts, created_at FROM pgqrs_queues ORDER BY name"))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::queue).toList());
  }

  @Override
  public Mono<Long> purgeQueue(String queue) {
    return db.transaction("purge queue", s -> requireQueueRow(s, queue)
        .flatMap(q -> s.update("DELETE FROM pgqrs_messages WHERE queue_id = ? AND state = 'live'",
            q.longValue("id"))));
  }

  @Override
  public Mono<StoreResults.QueueDeletion> deleteQueue(StoreParams.DeleteQueue p) {
    return db.transaction("delete queue", s -> first(s.query("SELECT id FROM pgqrs_queues WHERE name = ?", p.queue()),
            r -> r.longValue("id"))
        .flatMap(id -> first(s.query("""
                SELECT (SELECT count(*) FROM pgqrs_messages WHERE queue_id = ?1 AND state = 'live') AS live,
                       (SELECT count(*) FROM pgqrs_workers WHERE queue_id = ?1 AND status <> 'stopped') AS workers""",
                id), r -> new StoreResults.QueueInUse(r.longValue("live"), r.longValue("workers")))
            .flatMap(use -> !p.force() && (use.liveMessages() > 0 || use.activeWorkers() > 0)
                ? Mono.<StoreResults.QueueDeletion>just(use)
                : s.update("DELETE FROM pgqrs_queues WHERE id = ?", id)
                    .thenReturn(new StoreResults.QueueDeleted())))
        .defaultIfEmpty(new StoreResults.QueueMissing()));
  }

  // ---------------------------------------------------------------- messages

  @Override
  public Mono<List<StoreResults.Enqueued>> enqueue(StoreParams.Enqueue p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("enqueue", s -> requireQueueRow(s, p.queue())
          .flatMap(q -> Flux.fromIterable(p.rows())
              .concatMap(row -> {
                long visible = row.visibleAt() != null ? micros(row.visibleAt())
                    : row.delay() != null ? now + row.delay().toNanos() / 1_000L : now;
                return first(s.query("""
                        INSERT INTO pgqrs_messages (queue_id, payload, priority, enqueued_at, visible_at, dedup_key)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (queue_id, dedup_key) WHERE state = 'live' AND dedup_key IS NOT NULL DO NOTHING
                        RETURNING id""", q.longValue("id"), row.payloadJson(), row.priority(), now,
                        Math.max(now, visible), row.dedupKey()),
                    r -> new StoreResults.Enqueued(r.longValue("id"), true))
                    .switchIfEmpty(Mono.defer(() -> first(s.query("""
                            SELECT id FROM pgqrs_messages WHERE queue_id = ? AND state = 'live' AND dedup_key = ?""",
                            q.longValue("id"), row.dedupKey()),
                        r -> new StoreResults.Enqueued(r.longValue("id"), false))));
              })
              .collectList()))
          .doOnSuccess(ids -> wake(p.queue()));
    });
  }

  @Override
  public Mono<StoreResults.Claimed> claim(StoreParams.Claim p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      Comparator<Message> order = Comparator.comparingInt(Message::priority).reversed().thenComparingLong(Message::id);
      return db.transaction("claim", s -> requireQueueRow(s, p.queue())
          .flatMap(q -> s.query("""
                  SELECT id, attempts >= ? AS exhausted FROM pgqrs_messages
                  WHERE queue_id = ? AND state = 'live' AND visible_at <= ?
                  ORDER BY priority DESC, visible_at, id
                  LIMIT ?""", q.longValue("max_attempts"), q.longValue("id"), now, p.limit())
              .flatMap(candidates -> {
                List<Long> exhausted = new ArrayList<>();
                List<Long> deliver = new ArrayList<>();
                for (SqlRow c : candidates) {
                  (c.longValue("exhausted") != 0 ? exhausted : deliver).add(c.longValue("id"));
                }
                Mono<List<SqlRow>> dead = exhausted.isEmpty() ? Mono.just(List.of()) : s.query("""
                    UPDATE pgqrs_messages
                    SET state = 'dead', dead_at = ?, lease_token = NULL, lease_owner = NULL,
                        last_error = coalesce(last_error, 'max attempts reached')
                    WHERE id IN (SELECT value FROM json_each(?))
                    """ + RETURNING_MESSAGE, now, ids(exhausted));
                Mono<List<SqlRow>> claimed = deliver.isEmpty() ? Mono.just(List.of()) : s.query("""
                    UPDATE pgqrs_messages
                    SET attempts = attempts + 1, lease_token = TOKEN, lease_owner = ?, visible_at = ?
                    WHERE id IN (SELECT value FROM json_each(?))
                    """.replace("TOKEN", NEW_TOKEN) + RETURNING_MESSAGE,
                    p.workerId(), now + p.lease().toNanos() / 1_000L, ids(deliver));
                return Mono.zip(claimed, dead, (c, d) -> new StoreResults.Claimed(
                    c.stream().map(r -> message(r, p.queue())).sorted(order).toList(),
                    d.stream().map(r -> message(r, p.queue())).sorted(order).toList()));
              })));
    });
  }

  @Override
  public Mono<Boolean> archive(StoreParams.LeaseRef p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.statements("archive", s -> archiveLeased(s, p.messageId(), p.token(), now)).map(n -> n == 1);
    });
  }

  @Override
  public Mono<Integer> archiveMany(StoreParams.ArchiveMany p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("archive", s -> Flux.fromIterable(p.leases())
          .concatMap(l -> s.update("UPDATE pgqrs_messages SET state = 'archived', archived_at = ? WHERE " + FENCED,
              now, l.messageId(), l.token().toString(), now))
          .reduce(0L, Long::sum)
          .map(Long::intValue));
    });
  }

  @Override
  public Mono<Boolean> delete(StoreParams.LeaseRef p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.statements("delete", s -> s.update("DELETE FROM pgqrs_messages WHERE " + FENCED,
              p.messageId(), p.token().toString(), now))
          .map(n -> n == 1);
    });
  }

  @Override
  public Mono<Boolean> release(StoreParams.Release p) {
    return Mono.defer(() -> {
      StoreParams.LeaseRef l = p.lease();
      long now = now(l.now());
      return db.statements("release", s -> s.update("""
              UPDATE pgqrs_messages
              SET visible_at = ?, lease_token = NULL, lease_owner = NULL, last_error = coalesce(?, last_error)
              WHERE\s""" + FENCED, now + p.delay().toNanos() / 1_000L, p.error(), l.messageId(), l.token().toString(),
              now))
          .map(n -> n == 1);
    });
  }

  @Override
  public Mono<Lease> extend(StoreParams.Extend p) {
    return Mono.defer(() -> {
      StoreParams.LeaseRef l = p.lease();
      long now = now(l.now());
      return db.statements("extend", s -> first(s.query(
          "UPDATE pgqrs_messages SET visible_at = ? WHERE " + FENCED + " RETURNING visible_at",
          now + p.duration().toNanos() / 1_000L, l.messageId(), l.token().toString(), now),
          r -> new Lease(l.messageId(), l.token(), instant(r.longValue("visible_at")))));
    });
  }

  @Override
  public Mono<Boolean> deadLetter(StoreParams.DeadLetter p) {
    return Mono.defer(() -> {
      StoreParams.LeaseRef l = p.lease();
      long now = now(l.now());
      return db.statements("dead-letter", s -> s.update("""
              UPDATE pgqrs_messages
              SET state = 'dead', dead_at = ?, last_error = ?, lease_token = NULL, lease_owner = NULL
              WHERE\s""" + FENCED, now, p.error(), l.messageId(), l.token().toString(), now))
          .map(n -> n == 1);
    });
  }

  @Override
  public Mono<Message> findMessage(long id) {
    return db.statements("get message", s -> first(s.query("SELECT " + MESSAGE_COLUMNS + """
            , q.name AS queue FROM pgqrs_messages m JOIN pgqrs_queues q ON q.id = m.queue_id WHERE m.id = ?""", id),
        r -> message(r, r.string("queue"))));
  }

  @Override
  public Mono<Duration> untilNextVisible(String queue, @Nullable Instant now) {
    return Mono.defer(() -> {
      long at = now(now);
      return db.statements("find the next due message", s -> first(s.query("""
              SELECT min(visible_at) AS visible_at FROM pgqrs_messages
              WHERE queue_id = (SELECT id FROM pgqrs_queues WHERE name = ?) AND state = 'live'""", queue),
          r -> Optional.ofNullable(r.longOrNull("visible_at"))))
          .flatMap(Mono::justOrEmpty)
          // A paused run's message waits at Long.MAX_VALUE: microseconds do not overflow a Duration.
          .map(v -> Duration.of(Math.max(0L, v - at), ChronoUnit.MICROS));
    });
  }

  @Override
  public Flux<Message> listMessages(StoreParams.ListMessages p) {
    return db.statements("list messages", s -> s.query("SELECT " + MESSAGE_COLUMNS + """
             FROM pgqrs_messages m
            WHERE m.queue_id = (SELECT id FROM pgqrs_queues WHERE name = ?) AND m.state = ? AND m.id > ?
            ORDER BY m.id LIMIT ?""", p.queue(), p.state().name().toLowerCase(Locale.ROOT), p.afterId(), p.limit()))
        .flatMapIterable(rows -> rows.stream().map(r -> message(r, p.queue())).toList());
  }

  @Override
  public Mono<Long> replayDead(StoreParams.Replay p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      String idFilter = p.ids() == null ? null : ids(p.ids());
      // A replayed message keeps its dedup key unless a live message already holds it; SQLite checks
      // the unique index row by row, so an earlier replayed row counts as live for later ones.
      return db.transaction("replay dead letters", s -> requireQueueRow(s, p.queue())
          .flatMap(q -> s.update("""
              UPDATE pgqrs_messages
              SET state = 'live', attempts = 0, visible_at = ?, lease_token = NULL, lease_owner = NULL, dead_at = NULL,
                  dedup_key = CASE WHEN dedup_key IS NOT NULL AND NOT EXISTS (
                      SELECT 1 FROM pgqrs_messages l WHERE l.queue_id = pgqrs_messages.queue_id AND l.state = 'live'
                        AND l.dedup_key = pgqrs_messages.dedup_key) THEN dedup_key END
              WHERE queue_id = ? AND state = 'dead' AND (?3 IS NULL OR id IN (SELECT value FROM json_each(?3)))""",
              now, q.longValue("id"), idFilter)))
          .doOnSuccess(n -> {
            if (n != null && n > 0) {
              wake(p.queue());
            }
          });
    });
  }

  @Override
  public Mono<Long> purgeMessages(StoreParams.PurgeMessages p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      String column = switch (p.state()) {
        case ARCHIVED -> "archived_at";
        case DEAD -> "dead_at";
        case LIVE -> throw new IllegalArgumentException("live messages are purged with purgeQueue");
      };
      Long before = p.olderThan() == null ? null : now - p.olderThan().toNanos() / 1_000L;
      return db.transaction("purge " + p.state().name().toLowerCase(Locale.ROOT) + " messages",
          s -> requireQueueRow(s, p.queue()).flatMap(q -> s.update("""
              DELETE FROM pgqrs_messages WHERE id IN (
                  SELECT id FROM pgqrs_messages
                  WHERE queue_id = ? AND state = ? AND (?3 IS NULL OR COLUMN < ?3)
                  ORDER BY id LIMIT ?)""".replace("COLUMN", column),
              q.longValue("id"), p.state().name().toLowerCase(Locale.ROOT), before, p.limit() > 0 ? p.limit() : -1)));
    });
  }

  // ---------------------------------------------------------------- workers

  private Mono<WorkerInfo> selectWorker(SqlSession s, long id) {
    return first(s.query(WORKER_SELECT + " WHERE w.id = ?", id), SqliteDriver::worker);
  }

  @Override
  public Mono<WorkerInfo> registerWorker(StoreParams.RegisterWorker p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("register worker", s -> {
        Mono<Long> queueId = p.queue() == null
            ? Mono.just(-1L)
            : requireQueueRow(s, p.queue()).map(q -> q.longValue("id"));
        return queueId.flatMap(qid -> first(s.query("""
                    INSERT INTO pgqrs_workers (name, queue_id, hostname, pid, status, started_at, heartbeat_at)
                    VALUES (?, ?, ?, ?, 'ready', ?, ?)
                    ON CONFLICT (name) DO NOTHING RETURNING id""", p.name(), qid < 0 ? null : qid, p.hostname(),
                p.pid(), now, now), r -> r.longValue("id"))
            .switchIfEmpty(Mono.error(() -> new WorkerAlreadyExistsException(p.name(),
                "a worker named '" + p.name() + "' is registered already")))
            .flatMap(id -> selectWorker(s, id)));
      });
    });
  }

  @Override
  public Mono<WorkerStatus> heartbeat(StoreParams.Heartbeat p) {
    return db.statements("heartbeat", s -> first(s.query(
        "UPDATE pgqrs_workers SET heartbeat_at = max(heartbeat_at, ?) WHERE id = ? RETURNING status",
        now(p.now()), p.workerId()), r -> WorkerStatus.valueOf(r.string("status").toUpperCase(Locale.ROOT))));
  }

  @Override
  public Mono<WorkerInfo> setWorkerStatus(StoreParams.SetWorkerStatus p) {
    return db.transaction("set worker status", s -> s.update(
            "UPDATE pgqrs_workers SET status = ? WHERE id = ? AND status <> 'stopped'",
            p.status().name().toLowerCase(Locale.ROOT), p.workerId())
        .then(selectWorker(s, p.workerId())));
  }

  private static Mono<Long> leasesOf(SqlSession s, long workerId, long now) {
    return first(s.query("SELECT count(*) AS n FROM pgqrs_messages WHERE lease_owner = ? AND " + LIVE_LEASE,
        workerId, now), r -> r.longValue("n"));
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> shutdownWorker(StoreParams.ShutdownWorker p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("shutdown worker", s -> selectWorker(s, p.workerId())
          .flatMap(w -> leasesOf(s, p.workerId(), now).flatMap(leases -> {
            if (leases > 0 && !p.releaseLeases()) {
              return Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases));
            }
            Mono<Long> released = leases == 0 ? Mono.just(0L) : s.update("""
                UPDATE pgqrs_messages SET visible_at = ?, lease_token = NULL, lease_owner = NULL
                WHERE lease_owner = ? AND\s""" + LIVE_LEASE, now, p.workerId(), now);
            return released.flatMap(count -> s.update(
                    "UPDATE pgqrs_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, ?) WHERE id = ?",
                    now, p.workerId())
                .thenReturn(new StoreResults.WorkerStopped(count)));
          }))
          .defaultIfEmpty(new StoreResults.WorkerMissing()));
    });
  }

  @Override
  public Mono<WorkerInfo> findWorker(long workerId) {
    return db.statements("get worker", s -> selectWorker(s, workerId));
  }

  @Override
  public Flux<WorkerInfo> listWorkers(@Nullable String queue) {
    return db.statements("list workers", s -> s.query(WORKER_SELECT + " WHERE ?1 IS NULL OR q.name = ?1 ORDER BY w.id",
            queue))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::worker).toList());
  }

  @Override
  public Flux<WorkerHealth> workerHealth(StoreParams.WorkerHealthQuery p) {
    return Flux.defer(() -> {
      long now = now(p.now());
      long staleBefore = now - p.staleAfter().toNanos() / 1_000L;
      return db.statements("worker health", s -> s.query(WORKER_SELECT.replace("FROM", """
              , (SELECT count(*) FROM pgqrs_messages m WHERE m.lease_owner = w.id AND m.state = 'live'
                   AND m.lease_token IS NOT NULL AND m.visible_at > ?1) AS leases
              FROM""") + " ORDER BY w.id", now))
          .flatMapIterable(rows -> rows.stream().map(r -> {
            WorkerInfo w = worker(r);
            long heartbeat = micros(w.heartbeatAt());
            return new WorkerHealth(w, Duration.ofNanos(Math.max(0, now - heartbeat) * 1_000L),
                w.status() != WorkerStatus.STOPPED && heartbeat < staleBefore, r.longValue("leases"));
          }).toList());
    });
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> deleteWorker(long workerId) {
    return Mono.defer(() -> {
      long now = now(null);
      return db.transaction("delete worker", s -> selectWorker(s, workerId)
          .flatMap(w -> leasesOf(s, workerId, now).flatMap(leases -> leases > 0
              ? Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases))
              : s.update("DELETE FROM pgqrs_workers WHERE id = ?", workerId)
                  .thenReturn(new StoreResults.WorkerStopped(0))))
          .defaultIfEmpty(new StoreResults.WorkerMissing()));
    });
  }

  // ---------------------------------------------------------------- metrics

  @Override
  public Flux<QueueMetrics> queueMetrics(StoreParams.MetricsQuery p) {
    return Flux.defer(() -> {
      long now = now(p.now());
      return db.statements("queue metrics", s -> s.query("""
              SELECT q.name,
                     count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at <= ?1) AS pending,
                     count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > ?1 AND m.lease_token IS NOT NULL)
                         AS leased,
                     count(m.id) FILTER (WHERE m.state = 'live' AND m.visible_at > ?1 AND m.lease_token IS NULL)
                         AS delayed,
                     count(m.id) FILTER (WHERE m.state = 'archived') AS archived,
                     count(m.id) FILTER (WHERE m.state = 'dead') AS dead,
                     min(m.visible_at) FILTER (WHERE m.state = 'live' AND m.visible_at <= ?1) AS oldest_visible
              FROM pgqrs_queues q LEFT JOIN pgqrs_messages m ON m.queue_id = q.id
              WHERE ?2 IS NULL OR q.name = ?2
              GROUP BY q.id
              ORDER BY q.name""", now, p.queue()))
          .flatMapIterable(rows -> rows.stream().map(r -> {
            Long oldest = r.longOrNull("oldest_visible");
            return new QueueMetrics(r.string("name"), r.longValue("pending"), r.longValue("leased"),
                r.longValue("delayed"), r.longValue("archived"), r.longValue("dead"),
                oldest == null ? null : Duration.ofNanos(Math.max(0, now - oldest) * 1_000L));
          }).toList());
    });
  }

  // ---------------------------------------------------------------- maintenance

  // The statements of the maintenance services are in sql/maintenance.sql. Their clock is the
  // database's (see _now there), so stores on several hosts sharing a Turso database agree on
  // ages; each batch is one statement or one short transaction of a bounded number of rows.

  /** The clock override in microseconds, or null for the database's clock. */
  private static @Nullable Long clockOverride(@Nullable Instant now) {
    return now == null ? null : micros(now);
  }

  /** A duration in microseconds, saturating so that adding it to a clock reading cannot overflow. */
  private static long microsOf(Duration d) {
    long cap = Long.MAX_VALUE / 4;
    long seconds = d.getSeconds();
    if (seconds >= cap / 1_000_000L) {
      return cap;
    }
    return seconds * 1_000_000L + d.getNano() / 1_000L;
  }

  @Override
  public Mono<StoreResults.TurnTaken> takeMaintenanceTurn(StoreParams.MaintenanceTurn p) {
    Long now = clockOverride(p.now());
    return MAINTENANCE_SQL.flatMap(sql -> db.statements("take maintenance turn", s -> first(
            s.query(sql.get("takeTurn"), now, p.service(), p.force() ? 1 : 0, microsOf(p.interval()), p.instance()),
            r -> new StoreResults.TurnTaken(true, instant(r.longValue("now"))))
        .switchIfEmpty(Mono.defer(() -> first(s.query(sql.get("turnNotTaken"), now, p.service()), r -> {
          if (r.longValue("known") == 0) {
            throw new io.pgqrs.SchemaNotInstalledException(where, "take maintenance turn: " + where
                + " has no schedule for maintenance service '" + p.service() + "'; run admin().install()");
          }
          return new StoreResults.TurnTaken(false, instant(r.longValue("now")));
        })))));
  }

  @Override
  public Flux<StoreResults.MaintenanceSchedule> maintenanceSchedules() {
    return MAINTENANCE_SQL
        .flatMap(sql -> db.statements("maintenance schedules", s -> s.query(sql.get("schedules"))))
        .flatMapIterable(rows -> rows.stream().map(r -> new StoreResults.MaintenanceSchedule(r.string("name"),
            instant(r.longValue("next_run_at")), instantOrNull(r, "last_run_at"), r.stringOrNull("last_instance"),
            r.longValue("runs"))).toList());
  }

  @Override
  public Mono<StoreResults.WorkersRescued> rescueStaleWorkers(StoreParams.RescueStaleWorkers p) {
    Long now = clockOverride(p.now());
    return MAINTENANCE_SQL
        .flatMap(sql -> db.transaction("rescue stale workers", s -> s.query(sql.get("stopStaleWorkers"),
                now, microsOf(p.staleAfter()), p.limit())
            .flatMap(stopped -> {
              if (stopped.isEmpty()) {
                return Mono.just(new StoreResults.WorkersRescued(0, 0, List.of()));
              }
              List<Long> workerIds = stopped.stream().map(r -> r.longValue("id")).toList();
              return s.query(sql.get("releaseLeasesOfWorkers"), now, ids(workerIds))
                  .flatMap(released -> {
                    List<Long> queueIds = released.stream().map(r -> r.longValue("queue_id")).distinct().toList();
                    Mono<List<SqlRow>> names = queueIds.isEmpty() ? Mono.just(List.of())
                        : s.query(sql.get("queueNames"), ids(queueIds));
                    return names.map(rows -> new StoreResults.WorkersRescued(workerIds.size(), released.size(),
                        rows.stream().map(r -> r.string("name")).toList()));
                  });
            })))
        // Woken after the commit: a consumer that claims on the signal sees the released rows.
        .doOnNext(rescued -> rescued.queuesWoken().forEach(this::wake));
  }

  @Override
  public Mono<Long> purgeArchived(StoreParams.PurgeBatch p) {
    return purge("purge archived messages", "purgeArchived", p);
  }

  @Override
  public Mono<Long> purgeDeadLetters(StoreParams.PurgeBatch p) {
    return purge("purge dead letters", "purgeDeadLetters", p);
  }

  @Override
  public Mono<Long> purgeStoppedWorkers(StoreParams.PurgeBatch p) {
    return purge("purge stopped workers", "purgeStoppedWorkers", p);
  }

  /** One purge statement taking the clock, the retention and the limit; atomic on its own. */
  private Mono<Long> purge(String operation, String statement, StoreParams.PurgeBatch p) {
    return MAINTENANCE_SQL.flatMap(sql -> db.statements(operation, s -> s.update(sql.get(statement),
        clockOverride(p.now()), microsOf(p.olderThan()), p.limit())));
  }

  @Override
  public Mono<StoreResults.FinishedRunsPurged> purgeFinishedRuns(StoreParams.PurgeBatch p) {
    return MAINTENANCE_SQL.flatMap(sql -> db.transaction("purge finished runs", s -> s.query(sql.get("finishedRuns"),
            clockOverride(p.now()), microsOf(p.olderThan()), p.limit())
        .flatMap(found -> {
          if (found.isEmpty()) {
            return Mono.just(new StoreResults.FinishedRunsPurged(0, 0, 0));
          }
          String runIds = ids(found.stream().map(r -> r.longValue("id")).toList());
          return s.update(sql.get("deleteStepsOfRuns"), runIds)
              .flatMap(steps -> s.update(sql.get("deleteSignalsOfRuns"), runIds)
                  .flatMap(signals -> s.update(sql.get("deleteRuns"), runIds)
                      .map(runs -> new StoreResults.FinishedRunsPurged(runs, steps, signals))));
        })));
  }

  @Override
  public Mono<Long> reapRuns(StoreParams.ReapRuns p) {
    Long now = clockOverride(p.now());
    return MAINTENANCE_SQL
        .flatMap(sql -> db.transaction("reap runs", s -> s.query(sql.get("stuckRuns"), now, p.limit())
            .flatMap(due -> {
              if (due.isEmpty()) {
                return Mono.just(List.<Long>of());
              }
              List<Long> runIds = due.stream().map(r -> r.longValue("id")).toList();
              List<Long> timedOut = due.stream().filter(r -> r.longValue("timed_out") != 0)
                  .map(r -> r.longValue("id")).toList();
              List<Long> messageIds = due.stream().map(r -> r.longOrNull("message_id"))
                  .filter(java.util.Objects::nonNull).toList();
              return s.update(sql.get("archiveMessagesOfRuns"), now, ids(messageIds))
                  .then(s.update(sql.get("failRuns"), now, ids(runIds), ids(timedOut)))
                  .thenReturn(runIds);
            })))
        // Announced after the commit, like every other end of a run.
        .map(ended -> {
          ended.forEach(this::announceRunFinished);
          return (long) ended.size();
        });
  }

  // ---------------------------------------------------------------- workflows

  private static final String RUN_COLUMNS = """
      id, workflow, status, input, output, error, idempotency_key, attempts, failures, created_at, started_at,
      finished_at, deadline_at""";
  /** The visibility of a paused run's message without a deadline: never, in microseconds. */
  private static final long NEVER = Long.MAX_VALUE;

  /** {@code now} plus a duration in microseconds, saturating at {@link #NEVER}. */
  private static long after(long now, Duration d) {
    long seconds = d.getSeconds();
    if (seconds >= NEVER / 1_000_000L - 1) {
      return NEVER;
    }
    long plus = seconds * 1_000_000L + d.getNano() / 1_000L;
    return plus > NEVER - now ? NEVER : now + plus;
  }

  private static @Nullable Long microsOrNull(@Nullable Instant instant) {
    return instant == null ? null : micros(instant);
  }

  private static RunInfo run(SqlRow row) {
    String output = row.stringOrNull("output");
    return new RunInfo(
        row.longValue("id"),
        row.string("workflow"),
        RunStatus.valueOf(row.string("status")),
        Json.parse(row.string("input")),
        output == null ? null : Json.parse(output),
        row.stringOrNull("error"),
        row.stringOrNull("idempotency_key"),
        row.intValue("attempts"),
        row.intValue("failures"),
        instant(row.longValue("created_at")),
        instantOrNull(row, "started_at"),
        instantOrNull(row, "finished_at"),
        instantOrNull(row, "deadline_at"));
  }

  private static StepInfo step(SqlRow row) {
    String output = row.stringOrNull("output");
    return new StepInfo(
        row.longValue("run_id"),
        row.string("step_id"),
        StepStatus.valueOf(row.string("status")),
        row.intValue("attempts"),
        output == null ? null : Json.parse(output),
        row.stringOrNull("error"),
        instantOrNull(row, "wake_at"),
        instant(row.longValue("started_at")),
        instant(row.longValue("updated_at")),
        instantOrNull(row, "finished_at"));
  }

  /** A run as read inside a unit of work, with its trigger message. */
  private record ReadRun(RunInfo run, @Nullable Long messageId) {}

  /**
   * Reads a run inside a transaction. BEGIN IMMEDIATE already holds the write lock, so this read is
   * what PostgreSQL's {@code FOR UPDATE} makes it there: nobody changes the run until the commit.
   */
  private static Mono<ReadRun> readRun(SqlSession s, long runId) {
    return first(s.query("SELECT " + RUN_COLUMNS + ", message_id FROM pgqrs_runs WHERE id = ?", runId),
        r -> new ReadRun(run(r), r.longOrNull("message_id")));
  }

  private static Mono<RunInfo> selectRun(SqlSession s, long runId) {
    return first(s.query("SELECT " + RUN_COLUMNS + " FROM pgqrs_runs WHERE id = ?", runId), SqliteDriver::run);
  }

  /** Archives a message a worker holds, fenced by its lease. */
  private static Mono<Long> archiveLeased(SqlSession s, long messageId, UUID token, long now) {
    return s.update("UPDATE pgqrs_messages SET state = 'archived', archived_at = ? WHERE " + FENCED,
        now, messageId, token.toString(), now);
  }

  /** Archives a message nobody holds: never leased, released, or whose lease has expired. */
  private static Mono<Long> archiveUnleased(SqlSession s, long messageId, long now) {
    return s.update("""
        UPDATE pgqrs_messages SET state = 'archived', archived_at = ?1, lease_token = NULL, lease_owner = NULL
        WHERE id = ?2 AND state = 'live' AND (lease_token IS NULL OR visible_at <= ?1)""", now, messageId);
  }

  private static Mono<Long> setRunStatus(SqlSession s, long runId, String status, @Nullable String error, long now) {
    return s.update("""
        UPDATE pgqrs_runs
        SET status = ?3, error = coalesce(?4, error),
            finished_at = CASE WHEN ?3 = 'CANCELLED' THEN ?1 ELSE finished_at END, updated_at = ?1
        WHERE id = ?2""", now, runId, status, error);
  }

  /** Makes a released or delayed message visible now; how many rows changed. */
  private static Mono<Long> wakeRun(SqlSession s, long messageId, long now) {
    return s.update("""
        UPDATE pgqrs_messages SET visible_at = ?1
        WHERE id = ?2 AND state = 'live' AND lease_token IS NULL AND visible_at > ?1""", now, messageId);
  }

  @Override
  public Mono<Void> registerWorkflow(StoreParams.RegisterWorkflow p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("register workflow", s -> s.update("""
              INSERT INTO pgqrs_queues (name, max_attempts, created_at) VALUES (?, ?, ?)
              ON CONFLICT (name) DO NOTHING""", p.workflow(), p.maxAttempts(), now)
          .then(s.update("""
              INSERT INTO pgqrs_workflows (name, queue_id, created_at)
              SELECT ?1, id, ?2 FROM pgqrs_queues WHERE name = ?1
              ON CONFLICT (name) DO NOTHING""", p.workflow(), now))
          .thenReturn(true))
          .then();
    });
  }

  @Override
  public Mono<StoreResults.Triggered> triggerRun(StoreParams.TriggerRun p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      Long deadline = p.timeout() == null ? null : after(now, p.timeout());
      return db.transaction("trigger run", s -> first(s.query(
              "SELECT queue_id FROM pgqrs_workflows WHERE name = ?", p.workflow()), r -> r.longValue("queue_id"))
          .switchIfEmpty(Mono.error(() -> new WorkflowNotFoundException(p.workflow())))
          .flatMap(queueId -> first(s.query("""
                  INSERT INTO pgqrs_runs (workflow, status, input, idempotency_key, created_at, updated_at, deadline_at)
                  VALUES (?1, 'QUEUED', ?2, ?3, ?4, ?4, ?5)
                  ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                  RETURNING id""", p.workflow(), p.inputJson(), p.idempotencyKey(), now, deadline),
                  r -> r.longValue("id"))
              .flatMap(runId -> first(s.query("""
                      INSERT INTO pgqrs_messages (queue_id, payload, enqueued_at, visible_at) VALUES (?1, ?2, ?3, ?3)
                      RETURNING id""", queueId, "{\"run_id\": " + runId + "}", now), r -> r.longValue("id"))
                  .flatMap(messageId -> s.update("UPDATE pgqrs_runs SET message_id = ? WHERE id = ?", messageId, runId))
                  .thenReturn(new StoreResults.Triggered(runId, true)))
              .switchIfEmpty(Mono.defer(() -> first(s.query(
                      "SELECT id FROM pgqrs_runs WHERE workflow = ? AND idempotency_key = ?", p.workflow(),
                      p.idempotencyKey()),
                  r -> new StoreResults.Triggered(r.longValue("id"), false))))))
          // Woken after the commit, like enqueue: a consumer that claims on the signal sees the run.
          .doOnSuccess(t -> {
            if (t != null && t.created()) {
              wake(p.workflow());
            }
          });
    });
  }

  @Override
  public Mono<RunInfo> beginRun(StoreParams.BeginRun p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      // Only a run a worker may execute counts an attempt and gets its start time.
      return db.statements("begin run", s -> first(s.query("""
          UPDATE pgqrs_runs
          SET attempts = attempts + CASE WHEN status IN ('QUEUED', 'RUNNING') THEN 1 ELSE 0 END,
              started_at = CASE WHEN status IN ('QUEUED', 'RUNNING') THEN coalesce(started_at, ?1) ELSE started_at END,
              status = CASE WHEN status = 'QUEUED' THEN 'RUNNING' ELSE status END,
              updated_at = ?1
          WHERE id = ?2
          RETURNING\s""" + RUN_COLUMNS, now, p.runId()), SqliteDriver::run));
    });
  }

  @Override
  public Mono<StoreResults.StepAcquired> acquireStep(StoreParams.AcquireStep p) {
    record RunState(RunStatus status, boolean timedOut) {}
    record Previous(StepStatus status, @Nullable Instant wakeAt) {}
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("acquire step", s -> first(s.query(
              "SELECT status, coalesce(deadline_at <= ?, 0) AS timed_out FROM pgqrs_runs WHERE id = ?", now, p.runId()),
              r -> Optional.of(new RunState(RunStatus.valueOf(r.string("status")), r.longValue("timed_out") != 0)))
          .defaultIfEmpty(Optional.empty())
          .flatMap(state -> {
            if (state.isEmpty()) {
              return Mono.just(new StoreResults.RunStopped(null, false));
            }
            RunState run = state.get();
            if ((run.status() != RunStatus.QUEUED && run.status() != RunStatus.RUNNING) || run.timedOut()) {
              return Mono.just(new StoreResults.RunStopped(run.status(), run.timedOut()));
            }
            // The previous status is read before the upsert; BEGIN IMMEDIATE keeps it true until the commit.
            return first(s.query("SELECT status, wake_at FROM pgqrs_steps WHERE run_id = ? AND step_id = ?",
                    p.runId(), p.stepId()),
                    r -> Optional.of(new Previous(StepStatus.valueOf(r.string("status")), instantOrNull(r, "wake_at"))))
                .defaultIfEmpty(Optional.empty())
                .flatMap(prev -> first(s.query("""
                        INSERT INTO pgqrs_steps (run_id, step_id, status, attempts, lease_token, lease_until, started_at,
                                                 updated_at, seq)
                        VALUES (?1, ?2, 'RUNNING', 1, TOKEN, ?3, ?4, ?4,
                                (SELECT coalesce(max(seq), 0) + 1 FROM pgqrs_steps WHERE run_id = ?1))
                        ON CONFLICT (run_id, step_id) DO UPDATE
                        SET status = 'RUNNING', attempts = pgqrs_steps.attempts + 1, lease_token = excluded.lease_token,
                            lease_until = excluded.lease_until, updated_at = excluded.updated_at
                        WHERE (pgqrs_steps.status = 'RUNNING' AND pgqrs_steps.lease_until <= excluded.updated_at)
                           OR (pgqrs_steps.status = 'RETRY' AND pgqrs_steps.wake_at <= excluded.updated_at)
                           OR pgqrs_steps.status = 'WAITING'
                        RETURNING lease_token, attempts""".replace("TOKEN", NEW_TOKEN),
                        p.runId(), p.stepId(), after(now, p.lease()), now),
                        r -> (StoreResults.StepAcquired) new StoreResults.StepExecute(
                            UUID.fromString(r.string("lease_token")),
                            r.intValue("attempts"),
                            prev.map(Previous::status).orElse(StepStatus.RUNNING),
                            prev.map(Previous::wakeAt).orElse(null)))
                    .switchIfEmpty(Mono.defer(() -> first(s.query("""
                            SELECT status, output, output_type, error, attempts, lease_until, wake_at
                            FROM pgqrs_steps WHERE run_id = ? AND step_id = ?""", p.runId(), p.stepId()),
                        r -> stepRecord(r, now)))));
          }));
    });
  }

  private static StoreResults.StepAcquired stepRecord(SqlRow row, long now) {
    StepStatus status = StepStatus.valueOf(row.string("status"));
    return switch (status) {
      case SUCCESS -> new StoreResults.StepRecorded(row.stringOrNull("output"), row.stringOrNull("output_type"));
      case ERROR -> new StoreResults.StepFailed(row.string("error"), row.intValue("attempts"));
      case RETRY -> new StoreResults.StepNotDue(instant(row.longValue("wake_at")));
      // RUNNING under a live lease; WAITING is always takeable, so only a race lands here.
      case RUNNING, WAITING -> new StoreResults.StepNotDue(
          Optional.ofNullable(instantOrNull(row, "lease_until")).orElse(instant(now)));
    };
  }

  @Override
  public Mono<Boolean> finishStep(StoreParams.FinishStep p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.statements("finish step", s -> s.update("""
              UPDATE pgqrs_steps
              SET status = ?5, output = ?6, output_type = ?7, error = coalesce(?8, error), wake_at = ?9, awaiting = ?10,
                  lease_token = NULL, lease_until = NULL, updated_at = ?1,
                  finished_at = CASE WHEN ?5 IN ('SUCCESS', 'ERROR') THEN ?1 END
              WHERE run_id = ?2 AND step_id = ?3 AND lease_token = ?4 AND status = 'RUNNING'""",
              now, p.runId(), p.stepId(), p.token().toString(), p.status().name(), p.outputJson(), p.outputType(),
              p.error(), microsOrNull(p.wakeAt()), p.awaiting()))
          .map(n -> n == 1);
    });
  }

  @Override
  public Mono<StoreResults.StepExtended> extendStep(StoreParams.ExtendStep p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("extend step", s -> s.update("""
              UPDATE pgqrs_steps SET lease_until = ?
              WHERE run_id = ? AND step_id = ? AND lease_token = ? AND status = 'RUNNING'""",
              after(now, p.duration()), p.runId(), p.stepId(), p.token().toString())
          .flatMap(held -> s.query("SELECT status FROM pgqrs_runs WHERE id = ?", p.runId())
              .map(rows -> {
                String status = rows.isEmpty() ? null : rows.get(0).stringOrNull("status");
                return new StoreResults.StepExtended(held == 1, status == null ? null : RunStatus.valueOf(status));
              })));
    });
  }

  @Override
  public Mono<StoreResults.SignalTaken> takeSignal(StoreParams.TakeSignal p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      // The step is recorded only if its lease holds, and the signal is consumed only if the step was
      // recorded; with no signal pending nothing is checked, as on PostgreSQL.
      return db.transaction("take signal", s -> first(s.query("""
              SELECT id, value FROM pgqrs_signals
              WHERE run_id = ? AND name = ? AND consumed_by IS NULL ORDER BY id LIMIT 1""", p.runId(), p.name()),
              r -> r)
          .flatMap(sig -> {
            String value = sig.string("value");
            return s.update("""
                    UPDATE pgqrs_steps
                    SET status = 'SUCCESS', output = ?5, output_type = NULL, lease_token = NULL, lease_until = NULL,
                        awaiting = NULL, wake_at = NULL, finished_at = ?1, updated_at = ?1
                    WHERE run_id = ?2 AND step_id = ?3 AND lease_token = ?4 AND status = 'RUNNING'""",
                    now, p.runId(), p.stepId(), p.token().toString(), value)
                .flatMap(recorded -> recorded != 1
                    ? Mono.just(new StoreResults.SignalTaken(null, false))
                    : s.update("UPDATE pgqrs_signals SET consumed_by = ? WHERE id = ?", p.stepId(), sig.longValue("id"))
                        .thenReturn(new StoreResults.SignalTaken(value, true)));
          })
          .defaultIfEmpty(new StoreResults.SignalTaken(null, true)));
    });
  }

  @Override
  public Mono<Boolean> suspendRun(StoreParams.SuspendRun p) {
    return Mono.defer(() -> {
      long now = now(p.lease().now());
      return db.transaction("suspend run", s -> readRun(s, p.runId())
          .flatMap(read -> read.messageId() == null ? Mono.just(false) : s.update("""
                  UPDATE pgqrs_messages
                  SET lease_token = NULL, lease_owner = NULL, attempts = 0,
                      visible_at = (SELECT CASE
                          WHEN r.status = 'CANCELLING' THEN ?1
                          WHEN r.status = 'PAUSED' THEN coalesce(r.deadline_at, NEVER)
                          WHEN EXISTS (
                              SELECT 1 FROM pgqrs_signals g JOIN pgqrs_steps st
                                  ON st.run_id = g.run_id AND st.status = 'WAITING' AND st.awaiting = g.name
                              WHERE g.run_id = r.id AND g.consumed_by IS NULL) THEN ?1
                          ELSE min(max(coalesce(?5, ?1), ?1), coalesce(r.deadline_at, NEVER))
                      END FROM pgqrs_runs r WHERE r.id = ?2)
                  WHERE id = ?3 AND lease_token = ?4 AND state = 'live' AND visible_at > ?1
                    AND EXISTS (SELECT 1 FROM pgqrs_runs WHERE id = ?2)""".replace("NEVER", Long.toString(NEVER)),
                  now, p.runId(), read.messageId(), p.lease().token().toString(), microsOrNull(p.wakeAt()))
              .flatMap(n -> n == 1 && p.failed()
                  ? s.update("UPDATE pgqrs_runs SET failures = failures + 1, updated_at = ? WHERE id = ?", now,
                      p.runId()).thenReturn(true)
                  : Mono.just(n == 1)))
          .defaultIfEmpty(false));
    });
  }

  @Override
  public Mono<RunStatus> finishRun(StoreParams.FinishRun p) {
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("finish run", s -> readRun(s, p.runId())
          .filter(read -> !read.run().status().isFinished())
          .flatMap(read -> {
            Long messageId = read.messageId();
            StoreParams.LeaseRef lease = p.lease();
            Mono<Long> archived = messageId == null ? Mono.just(1L)
                : lease == null ? archiveUnleased(s, messageId, now).thenReturn(1L)
                : archiveLeased(s, messageId, lease.token(), now);
            return archived.flatMap(n -> n != 1
                // The lease was lost: another worker owns the run now and will finish it.
                ? Mono.<RunStatus>empty()
                : first(s.query("""
                        UPDATE pgqrs_runs
                        SET status = CASE WHEN status = 'CANCELLING' THEN 'CANCELLED' ELSE ?3 END,
                            output = CASE WHEN status = 'CANCELLING' THEN NULL ELSE ?4 END,
                            error = CASE WHEN status = 'CANCELLING' THEN error ELSE ?5 END,
                            finished_at = ?1, updated_at = ?1
                        WHERE id = ?2 AND status IN ('QUEUED', 'RUNNING', 'PAUSED', 'CANCELLING')
                        RETURNING status""",
                        now, p.runId(), p.status().name(), p.outputJson(), p.error()),
                    r -> RunStatus.valueOf(r.string("status"))));
          }))
          // Announced after the commit: a waiter that reads the run on the signal sees it finished.
          .doOnSuccess(status -> {
            if (status != null) {
              announceRunFinished(p.runId());
            }
          });
    });
  }

  @Override
  public Mono<RunInfo> signalRun(StoreParams.SignalRun p) {
    record Signalled(RunInfo run, boolean woken) {}
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("signal run", s -> readRun(s, p.runId())
          .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
          .flatMap(read -> {
            if (read.run().status().isFinished()) {
              return Mono.error(new RunStateException(p.runId(), read.run().status(), "signal"));
            }
            Long messageId = read.messageId();
            Mono<Long> woken = messageId == null || read.run().status() == RunStatus.PAUSED ? Mono.just(0L) : s.update("""
                UPDATE pgqrs_messages SET visible_at = ?1
                WHERE id = ?2 AND state = 'live' AND lease_token IS NULL AND visible_at > ?1
                  AND EXISTS (SELECT 1 FROM pgqrs_steps WHERE run_id = ?3 AND status = 'WAITING' AND awaiting = ?4)""",
                now, messageId, p.runId(), p.name());
            return s.update("INSERT INTO pgqrs_signals (run_id, name, value, sent_at) VALUES (?, ?, ?, ?)",
                    p.runId(), p.name(), p.valueJson(), now)
                .then(woken)
                .map(n -> new Signalled(read.run(), n > 0));
          }))
          .doOnSuccess(signalled -> {
            if (signalled != null && signalled.woken()) {
              wake(signalled.run().workflow());
            }
          })
          .map(Signalled::run);
    });
  }

  @Override
  public Mono<RunInfo> controlRun(StoreParams.ControlRun p) {
    record Controlled(RunInfo run, boolean woken, boolean cancelled) {}
    return Mono.defer(() -> {
      long now = now(p.now());
      return db.transaction("control run", s -> readRun(s, p.runId())
          .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
          .flatMap(read -> {
            RunInfo run = read.run();
            Long messageId = read.messageId();
            String operation = p.action().name().toLowerCase(Locale.ROOT);
            // What changed: bit 1 the message was made visible, bit 2 the run was cancelled at once.
            Mono<Integer> change = switch (p.action()) {
              case PAUSE -> switch (run.status()) {
                case PAUSED -> Mono.just(0);
                case QUEUED, RUNNING -> setRunStatus(s, p.runId(), "PAUSED", null, now).thenReturn(0);
                default -> Mono.error(new RunStateException(p.runId(), run.status(), operation));
              };
              case RESUME -> run.status() != RunStatus.PAUSED
                  ? Mono.error(new RunStateException(p.runId(), run.status(), operation))
                  : setRunStatus(s, p.runId(), run.startedAt() == null ? "QUEUED" : "RUNNING", null, now)
                      .then(messageId == null ? Mono.just(0L) : wakeRun(s, messageId, now))
                      .map(n -> n > 0 ? 1 : 0);
              case CANCEL -> switch (run.status()) {
                case CANCELLED, CANCELLING -> Mono.just(0);
                case SUCCESS, ERROR -> Mono.error(new RunStateException(p.runId(), run.status(), operation));
                default -> (messageId == null ? Mono.just(0L) : archiveUnleased(s, messageId, now)
                        .then(first(s.query("""
                            SELECT count(*) AS leased FROM pgqrs_messages
                            WHERE id = ?1 AND state = 'live' AND lease_token IS NOT NULL AND visible_at > ?2""",
                            messageId, now), r -> r.longValue("leased")).defaultIfEmpty(0L)))
                    // Nobody holds the message (or it is no longer live): the run ends now.
                    // Otherwise its worker ends it at the next step boundary.
                    .flatMap(leased -> leased == 0
                        ? setRunStatus(s, p.runId(), "CANCELLED", p.reason(), now).thenReturn(2)
                        : setRunStatus(s, p.runId(), "CANCELLING", p.reason(), now).thenReturn(0));
              };
            };
            return change.flatMap(bits -> selectRun(s, p.runId())
                .map(after -> new Controlled(after, (bits & 1) != 0, (bits & 2) != 0)));
          }))
          .doOnSuccess(controlled -> {
            if (controlled != null && controlled.woken()) {
              wake(controlled.run().workflow());
            }
            if (controlled != null && controlled.cancelled()) {
              announceRunFinished(controlled.run().id());
            }
          })
          .map(Controlled::run);
    });
  }

  @Override
  public Mono<RunInfo> findRun(long runId) {
    return db.statements("find run", s -> selectRun(s, runId));
  }

  @Override
  public Flux<RunInfo> listRuns(StoreParams.ListRuns p) {
    RunQuery q = p.query();
    return db.statements("list runs", s -> s.query("SELECT " + RUN_COLUMNS + """
             FROM pgqrs_runs
            WHERE (?1 IS NULL OR workflow = ?1) AND (?2 IS NULL OR status = ?2)
              AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at < ?4)
              AND (?5 IS NULL OR id < ?5)
            ORDER BY id DESC LIMIT ?6""", q.workflow(), q.status() == null ? null : q.status().name(),
            microsOrNull(q.createdFrom()), microsOrNull(q.createdTo()), q.beforeId(), q.limit()))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::run).toList());
  }

  @Override
  public Flux<StepInfo> listSteps(long runId) {
    return db.statements("list steps", s -> s.query("""
            SELECT run_id, step_id, status, attempts, output, error, wake_at, started_at, updated_at, finished_at
            FROM pgqrs_steps WHERE run_id = ? ORDER BY seq""", runId))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::step).toList());
  }

  private void announceRunFinished(long runId) {
    finished.emitNext(runId, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
  }

  /** Finished runs of this process only: other processes sharing the database are seen by polling. */
  @Override
  public Flux<Long> runsFinished() {
    return finished.asFlux();
  }

  private void wake(String queue) {
    woken.emitNext(queue, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
  }

  @Override
  public Flux<String> wakeups(String queue) {
    return woken.asFlux().filter(queue::equals);
  }

  @Override
  public Mono<Void> close() {
    return db.close().doFinally(s -> {
      woken.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
      finished.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    });
  }
}
