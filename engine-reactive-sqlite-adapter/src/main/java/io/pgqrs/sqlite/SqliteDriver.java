package io.pgqrs.sqlite;

import static io.pgqrs.sqlite.SqliteSql.sql;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.Capabilities;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.internal.Emitters;
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
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The SQLite-dialect store, on any {@link SqlExecutor}. Its statements are in
 * {@code io/pgqrs/sqlite/sql/<table>.sql} (see {@link SqliteSql}); this class names them, binds
 * their parameters and maps their rows.
 *
 * <p>Instants are stored as microseconds since the epoch, and the time comes from the database's
 * clock, read in SQL, unless an operation's {@code now} override gives it; durations are bound in
 * microseconds and added in SQL. A unit of work of several statements reads the time once, in its
 * first statement, and gives it to the others. Claims need no SKIP LOCKED: the executor serialises
 * every write.
 *
 * <p>A run's status moves only by the transition tables of the engine's run state machine that the
 * operations carry, bound as JSON for the statements to apply; the driver decides no transition of
 * its own.
 */
final class SqliteDriver implements StoreDriver {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SqliteDriver.class);

  /** The migrations this library ships for SQLite, in order; version = position + 1. */
  static final List<String> MIGRATION_FILES = readLines("/io/pgqrs/sqlite/migrations/index");


  private final SqlExecutor db;
  /** In-process wake-ups: other processes sharing the file are seen by polling only. */
  private final Sinks.Many<String> woken = Sinks.many().multicast().directBestEffort();
  /** In-process announcements of finished runs, emitted after the commit that finished them. */
  private final Sinks.Many<Long> finished = Sinks.many().multicast().directBestEffort();
  private final Capabilities capabilities;
  private final String where;

  SqliteDriver(SqlExecutor db, Capabilities capabilities, String where) {
    this.db = db;
    this.capabilities = capabilities;
    this.where = where;
  }

  static List<String> readLines(String path) {
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

  /** Splits a script into statements: comments dropped, split at semicolons ending a line. */
  static List<String> statementsOf(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.trim().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    return Arrays.stream(text.toString().split(";\\s*\n")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * The executor the driver runs its statements on: for tests that write rows in the columns of an
   * older schema version, which the driver's statements no longer fit.
   */
  SqlExecutor executor() {
    return db;
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

  static long micros(Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000L);
  }

  /** The override of an operation's time, bound as ?1 of a statement that reads the clock. */
  private static @Nullable Long microsOrNull(@Nullable Instant instant) {
    return instant == null ? null : micros(instant);
  }

  /** A duration in microseconds, saturating: SQL adds it to a time and saturates there. */
  static long micros(Duration d) {
    try {
      return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1_000L);
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  private static @Nullable Long microsOrNull(@Nullable Duration d) {
    return d == null ? null : micros(d);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }

  private static @Nullable Instant instantOrNull(SqlRow row, String column) {
    Long v = row.longOrNull(column);
    return v == null ? null : instant(v);
  }

  private static @Nullable Duration durationOrNull(SqlRow row, String column) {
    Long v = row.longOrNull(column);
    return v == null ? null : Duration.of(v, ChronoUnit.MICROS);
  }

  /** A message row read by the fragments of messages.sql; package-private for the upgrade tests. */
  static Message message(SqlRow row, String queue) {
    String token = row.stringOrNull("lease_token");
    return new Message(
        row.longValue("id"),
        queue,
        Json.parsePayload(row.string("payload")),
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
        instantOrNull(row, "dead_at"),
        row.stringOrNull("group_key"),
        Json.parseHeaders(row.stringOrNull("headers")));
  }

  /** The messages of returned rows in the order of the ids given: RETURNING has no order. */
  private static List<Message> inOrder(List<SqlRow> rows, List<Long> ids, String queue) {
    Map<Long, SqlRow> byId = new HashMap<>(rows.size() * 2);
    for (SqlRow row : rows) {
      byId.put(row.longValue("id"), row);
    }
    List<Message> messages = new ArrayList<>(rows.size());
    for (long id : ids) {
      SqlRow row = byId.get(id);
      if (row != null) {
        messages.add(message(row, queue));
      }
    }
    return messages;
  }

  private static QueueInfo queue(SqlRow row) {
    Long maxLeased = row.longOrNull("max_leased");
    Long claimRate = row.longOrNull("claim_rate");
    Long perKey = row.longOrNull("max_leased_per_key");
    return new QueueInfo(row.longValue("id"), row.string("name"), row.intValue("max_attempts"),
        instant(row.longValue("created_at")), maxLeased == null ? null : Math.toIntExact(maxLeased),
        claimRate == null ? null : Math.toIntExact(claimRate), perKey == null ? null : Math.toIntExact(perKey));
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

  private static <T> Mono<T> first(Mono<List<SqlRow>> rows, Function<SqlRow, T> mapper) {
    return rows.flatMap(list -> list.isEmpty() ? Mono.empty() : Mono.just(mapper.apply(list.get(0))));
  }

  /** A JSON array of ids, read in SQL with json_each. */
  private static String ids(List<Long> ids) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < ids.size(); i++) {
      json.append(i == 0 ? "" : ",").append(ids.get(i));
    }
    return json.append(']').toString();
  }

  /**
   * A transition table of the run state machine as the JSON object the statements read with
   * {@code json_extract(?, '$.' || status)}: each source status names its target.
   */
  private static String table(StoreParams.Moves moves) {
    StringBuilder json = new StringBuilder("{");
    for (int i = 0; i < moves.from().size(); i++) {
      json.append(i == 0 ? "" : ",").append('"').append(moves.from().get(i).name()).append("\":\"")
          .append(moves.to().get(i).name()).append('"');
    }
    return json.append('}').toString();
  }

  /** Run statuses as a JSON array of their names, read in SQL with json_each. */
  private static String statuses(List<RunStatus> statuses) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < statuses.size(); i++) {
      json.append(i == 0 ? "" : ",").append('"').append(statuses.get(i).name()).append('"');
    }
    return json.append(']').toString();
  }

  /** A JSON array of {"id": ..., "token": ...} objects, read in SQL with json_each. */
  private static String leases(List<StoreParams.LeaseRef> leases) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < leases.size(); i++) {
      StoreParams.LeaseRef l = leases.get(i);
      json.append(i == 0 ? "" : ",").append("{\"id\":").append(l.messageId())
          .append(",\"token\":\"").append(l.token()).append("\"}");
    }
    return json.append(']').toString();
  }

  /**
   * Looks a queue up in a transaction, reading the transaction's time: the row has the queue's
   * {@code id} and {@code max_attempts}, and {@code now}.
   */
  private static Mono<SqlRow> lockQueue(SqlSession s, String queue, @Nullable Instant now) {
    return first(s.query(sql("lock_queue"), microsOrNull(now), queue), r -> r)
        .switchIfEmpty(Mono.error(() -> queueNotFound(queue)));
  }

  // ---------------------------------------------------------------- schema

  @Override
  public Mono<Void> install() {
    return migrate(MIGRATION_FILES.size());
  }

  /**
   * Applies the missing migrations up to a version, in one write transaction, as {@link #install()}
   * applies all of them; a schema of an older release is made so. Cold; on error or cancel the
   * transaction rolls back and nothing is applied.
   *
   * @param version the highest migration to apply, at most the number of migrations shipped
   * @return completes once applied
   */
  Mono<Void> migrate(int version) {
    return db.transaction("install", s -> s.script(List.of(sql("create_migrations_table")))
        .then(s.query(sql("applied_migrations")))
        .flatMap(applied -> {
          List<Long> done = applied.stream().map(r -> r.longValue("version")).toList();
          return Flux.range(1, version)
              .filter(v -> !done.contains((long) v))
              .concatMap(v -> {
                String file = MIGRATION_FILES.get(v - 1);
                return s.script(statementsOf(readResource("/io/pgqrs/sqlite/migrations/" + file)))
                    .then(s.update(sql("record_migration"), v, file));
              })
              .then(Mono.just(true));
        }))
        .then();
  }

  @Override
  public Mono<SchemaReport> verify() {
    return db.statements("verify", s -> s.query(sql("missing_objects"))
        .flatMap(rows -> {
          List<String> missing = rows.stream().map(r -> r.string("name")).toList();
          Mono<Integer> version = missing.contains("pgqrs_migrations")
              ? Mono.just(0)
              : first(s.query(sql("installed_version")), r -> r.intValue("version"));
          return version.map(v -> new SchemaReport(where, v, MIGRATION_FILES.size(), missing));
        }));
  }

  /** The table a {@code DROP TABLE name} statement drops. */
  private static String tableDropped(String drop) {
    String name = drop.substring(drop.lastIndexOf(' ') + 1).trim();
    return name.endsWith(";") ? name.substring(0, name.length() - 1) : name;
  }

  @Override
  public Mono<Void> uninstall() {
    return db.transaction("uninstall", s -> first(s.query(sql("migrations_table_exists")), r -> r.longValue("n") > 0)
        .flatMap(installed -> !installed ? Mono.just(true) : s.query(sql("pgqrs_tables"))
            .flatMap(tables -> {
              Set<String> owned = new HashSet<>();
              List<String> foreign = new ArrayList<>();
              for (SqlRow r : tables) {
                (r.longValue("owned") == 1 ? owned : foreign).add(r.string("name"));
              }
              if (!foreign.isEmpty()) {
                log.warn("pgqrs uninstall leaves {} in {}: pgqrs did not create them", foreign, where);
              }
              owned.add("pgqrs_migrations");
              // Only the DROPs of tables install made, in the file's order.
              // (Loaded statements may be compacted onto one line: split at every semicolon.)
              List<String> drops = statementsOf(sql("drop_tables")).stream()
                  .flatMap(text -> Arrays.stream(text.split(";")))
                  .map(String::trim)
                  .filter(drop -> !drop.isEmpty() && owned.contains(tableDropped(drop)))
                  .toList();
              return s.script(drops).thenReturn(true);
            })))
        .then();
  }

  // ---------------------------------------------------------------- queues

  @Override
  public Mono<QueueInfo> createQueue(StoreParams.CreateQueue p) {
    return db.statements("create queue", s -> first(s.query(sql("create_queue"), microsOrNull(p.now()), p.queue(),
            p.maxAttempts(), p.maxLeased(), p.maxClaimsPerSecond(), p.maxLeasedPerKey()), SqliteDriver::queue))
        .switchIfEmpty(Mono.error(() ->
            new QueueAlreadyExistsException(p.queue(), "queue '" + p.queue() + "' exists already")));
  }

  @Override
  public Mono<QueueInfo> configureQueue(StoreParams.ConfigureQueue p) {
    return db.statements("configure queue", s -> first(s.query(sql("configure_queue"), p.queue(), p.maxAttempts(),
        p.maxLeased(), p.maxClaimsPerSecond(), p.maxLeasedPerKey()), SqliteDriver::queue));
  }

  @Override
  public Mono<QueueInfo> findQueue(String queue) {
    return db.statements("get queue", s -> first(s.query(sql("find_queue"), queue), SqliteDriver::queue));
  }

  @Override
  public Flux<QueueInfo> listQueues() {
    return db.statements("list queues", s -> s.query(sql("list_queues")))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::queue).toList());
  }

  @Override
  public Mono<Long> purgeQueue(String queue) {
    return db.transaction("purge queue", s -> lockQueue(s, queue, null)
        .flatMap(q -> s.update(sql("purge_queue"), q.longValue("id"))));
  }

  @Override
  public Mono<StoreResults.QueueDeletion> deleteQueue(StoreParams.DeleteQueue p) {
    return db.transaction("delete queue", s -> first(s.query(sql("lock_queue"), null, p.queue()),
            r -> r.longValue("id"))
        .flatMap(id -> first(s.query(sql("count_queue_use"), id),
                r -> new StoreResults.QueueInUse(r.longValue("live"), r.longValue("workers")))
            .flatMap(use -> !p.force() && (use.liveMessages() > 0 || use.activeWorkers() > 0)
                ? Mono.<StoreResults.QueueDeletion>just(use)
                : s.update(sql("delete_queue"), id).thenReturn(new StoreResults.QueueDeleted())))
        .defaultIfEmpty(new StoreResults.QueueMissing()));
  }

  // ---------------------------------------------------------------- messages

  @Override
  public Mono<List<StoreResults.Enqueued>> enqueue(StoreParams.Enqueue p) {
    // Deferred, and before the write lock: a visibility the column cannot hold fails the publisher.
    return Mono.defer(() -> {
          Long[] visible = p.rows().stream().map(row -> visibleMicros(row.visibleAt())).toArray(Long[]::new);
          return db.transaction("enqueue", s -> enqueueIn(s, p, visible));
        })
        .doOnSuccess(ids -> wake(p.queue()));
  }

  /** The statements of an enqueue, in the caller's write transaction; visibilities as {@link #visibleMicros}. */
  private static Mono<List<StoreResults.Enqueued>> enqueueIn(SqlSession s, StoreParams.Enqueue p,
      @Nullable Long[] visible) {
    return lockQueue(s, p.queue(), p.now())
        .flatMap(q -> Flux.range(0, visible.length)
            .concatMap(i -> {
              StoreParams.NewRow row = p.rows().get(i);
              return first(s.query(sql("enqueue"), q.longValue("now"), q.longValue("id"),
                      row.payloadJson(), row.priority(), visible[i], microsOrNull(row.delay()), row.dedupKey(),
                      row.groupKey(), row.headersJson()),
                  r -> new StoreResults.Enqueued(r.longValue("id"), true))
                  .switchIfEmpty(Mono.defer(() -> first(s.query(sql("find_live_by_dedup_key"),
                          q.longValue("id"), row.dedupKey()),
                      r -> new StoreResults.Enqueued(r.longValue("id"), false))));
            })
            .collectList());
  }

  /**
   * An absolute visibility in microseconds, as the visible_at column holds it.
   *
   * @throws InvalidArgumentException if the instant is beyond the microseconds a 64-bit count holds
   *     (PostgreSQL refuses the same instants)
   */
  private static @Nullable Long visibleMicros(@Nullable Instant at) {
    try {
      return microsOrNull(at);
    } catch (ArithmeticException e) {
      throw new InvalidArgumentException("visibleAt", "visibleAt " + at + " is beyond the times a store keeps");
    }
  }

  @Override
  public Mono<StoreResults.Claimed> claim(StoreParams.Claim p) {
    return db.transaction("claim", s -> claimIn(s, p, true));
  }

  @Override
  public Mono<StoreResults.ClaimedRuns> claimRuns(StoreParams.ClaimRuns p) {
    // One transaction: the claim, then each claimed message's run begun as beginRun begins it. The
    // one writer holds the database, so no run is locked by anyone else meanwhile.
    // Workflow claims leave per-key fairness alone, as on PostgreSQL.
    return db.transaction("claim", s -> claimIn(s, p.claim(), false)
        .flatMap(claimed -> Flux.fromIterable(claimed.claimed())
            .concatMap(m -> {
              JsonNode runId = m.payload().get("run_id");
              if (runId == null || !runId.canConvertToLong()) {
                return Mono.empty();
              }
              return beginIn(s, new StoreParams.BeginRun(runId.asLong(), p.begin(), p.claim().now()))
                  .map(begun -> Map.entry(m.id(), begun));
            })
            .collectMap(Map.Entry::getKey, Map.Entry::getValue)
            .map(begun -> new StoreResults.ClaimedRuns(claimed, begun))));
  }

  private static Mono<StoreResults.Claimed> claimIn(SqlSession s, StoreParams.Claim p, boolean fairness) {
    return first(s.query(sql("lock_queue_to_claim"), microsOrNull(p.now()), p.queue()), r -> r)
        .switchIfEmpty(Mono.error(() -> queueNotFound(p.queue())))
        .flatMap(q -> {
          long now = q.longValue("now");
          Long maxLeased = q.longOrNull("max_leased");
          // A limited queue's live leases, counted in the transaction that holds the one write lock,
          // so no other claim changes them before this one commits. An unlimited queue reads nothing.
          Mono<Optional<SqlRow>> held = maxLeased == null ? Mono.just(Optional.empty())
              : first(s.query(sql("leases_held"), now, q.longValue("id")), Optional::of);
          Long perKey = fairness ? q.longOrNull("max_leased_per_key") : null;
          if (perKey != null) {
            return held.flatMap(h -> s.query(sql("key_leases_held"), now, q.longValue("id"))
                .flatMap(keyLeases -> claimWithin(s, p, q, now, maxLeased, h.orElse(null), true,
                    room -> fairCandidates(s, q, now, perKey, keyLeases, room))));
          }
          return held.flatMap(h -> claimWithin(s, p, q, now, maxLeased, h.orElse(null), false,
              room -> s.query(sql("claim_candidates"), now, q.longValue("max_attempts"), q.longValue("id"), room)));
        });
  }

  /**
   * The candidates of a claim on a queue with per-key fairness: fair_claim_candidates' rows in
   * round-robin order, taken while their key has room (the per-key limit less its live leases) and
   * the claim has room.
   */
  private static Mono<List<SqlRow>> fairCandidates(SqlSession s, SqlRow q, long now, long perKey,
      List<SqlRow> keyLeases, int room) {
    if (room <= 0) {
      return Mono.just(List.of());
    }
    // A HashMap keeps the null key: the messages without a group key are one group.
    Map<String, Long> free = new HashMap<>();
    for (SqlRow r : keyLeases) {
      free.put(r.stringOrNull("group_key"), perKey - r.longValue("leases"));
    }
    return s.query(sql("fair_claim_candidates"), now, q.longValue("max_attempts"), q.longValue("id"),
            Math.min(room, perKey))
        .map(rows -> {
          // Round-robin: the keys rank in the order of their first rows (key_pos 1, which come
          // first, in claim order); every row then by its place in its key, then its key's rank.
          Map<String, Integer> rank = new HashMap<>();
          for (SqlRow r : rows) {
            if (r.longValue("key_pos") == 1) {
              rank.putIfAbsent(r.stringOrNull("group_key"), rank.size());
            }
          }
          List<SqlRow> ordered = new ArrayList<>(rows);
          ordered.sort(java.util.Comparator.comparingLong((SqlRow r) -> r.longValue("key_pos"))
              .thenComparingInt(r -> rank.get(r.stringOrNull("group_key"))));
          List<SqlRow> taken = new ArrayList<>();
          for (SqlRow r : ordered) {
            if (taken.size() >= room) {
              break;
            }
            String key = r.stringOrNull("group_key");
            long left = free.getOrDefault(key, perKey);
            if (left > 0) {
              free.put(key, left - 1);
              taken.add(r);
            }
          }
          return taken;
        });
  }

  private static Mono<StoreResults.Claimed> claimWithin(SqlSession s, StoreParams.Claim p, SqlRow q, long now,
      @Nullable Long maxLeased, @Nullable SqlRow held, boolean fairness,
      java.util.function.IntFunction<Mono<List<SqlRow>>> candidatesWithin) {
    long leases = held == null ? 0 : held.longValue("leases");
    int room = maxLeased == null ? p.limit() : (int) Math.max(0, Math.min(p.limit(), maxLeased - leases));
    // The claim rate's bucket, refilled for the time since it was last taken, at most one second's.
    Long rate = q.longOrNull("claim_rate");
    double tokens = 0;
    if (rate != null) {
      Double stored = q.doubleOrNull("claim_tokens");
      Long at = q.longOrNull("claim_tokens_at");
      double elapsed = at == null ? 1 : Math.max(0, now - at) / 1_000_000.0;
      tokens = Math.min(rate, (stored == null ? rate : stored) + elapsed * rate);
      room = (int) Math.min(room, (long) Math.floor(tokens));
    }
    double bucket = tokens;
    boolean fair = fairness && q.longOrNull("max_leased_per_key") != null;
    int roomLeft = room;
    return candidatesWithin.apply(room)
              .flatMap(candidates -> {
                List<Long> exhausted = new ArrayList<>();
                List<Long> deliver = new ArrayList<>();
                for (SqlRow c : candidates) {
                  (c.longValue("exhausted") != 0 ? exhausted : deliver).add(c.longValue("id"));
                }
                Mono<List<SqlRow>> dead = exhausted.isEmpty() ? Mono.just(List.of())
                    : s.query(sql("dead_letter_exhausted"), now, ids(exhausted));
                Mono<List<SqlRow>> claimed = deliver.isEmpty() ? Mono.just(List.of())
                    : s.query(sql("claim"), now, p.workerId(), micros(p.lease()), ids(deliver));
                if (rate != null && !deliver.isEmpty()) {
                  claimed = claimed.flatMap(rows -> s.update(sql("take_claim_tokens"), q.longValue("id"),
                      bucket - deliver.size(), now).thenReturn(rows));
                }
                // Delivered in the candidates' order: priority, then visibility, then id.
                // What the claim left, read after its writes in the same transaction: no separate
                // probe, no extra commit.
                String taken = ids(candidates.stream().map(c -> c.longValue("id")).toList());
                Mono<Optional<Duration>> leftOf = fair
                    ? first(s.query(sql("fair_claim_left"), now, q.longValue("id"), taken),
                        r -> Optional.ofNullable(fairLeft(r, now, roomLeft, candidates.size(), deliver.size(),
                            p.lease())))
                    : first(s.query(sql("claim_left"), now, q.longValue("id"), taken),
                        r -> Optional.ofNullable(durationOrNull(r, "micros")));
                return Mono.zip(claimed, dead)
                    .flatMap(cd -> leftOf
                        .map(left -> new StoreResults.Claimed(inOrder(cd.getT1(), deliver, p.queue()),
                            inOrder(cd.getT2(), exhausted, p.queue()),
                            atRate(atLimit(left.orElse(null), maxLeased, held, deliver.size(), now, p.lease()),
                                rate, bucket - deliver.size()))));
              });
  }

  /**
   * What a fair claim left: null if nothing live is left; zero if it took all its room (more may
   * be claimable); else what is left waits for a key's lease to end or a message to become visible,
   * so the time until the first of those, this claim's own leases included (zero if none is known).
   */
  private static @Nullable Duration fairLeft(SqlRow r, long now, int room, int taken, int granted,
      Duration lease) {
    if (r.longValue("live") == 0) {
      return null;
    }
    if (room > 0 && taken >= room) {
      return Duration.ZERO;
    }
    Long next = r.longOrNull("next");
    long end = granted > 0 ? now + micros(lease) : Long.MAX_VALUE;
    if (next != null) {
      end = Math.min(end, next);
    }
    return end == Long.MAX_VALUE ? Duration.ZERO : Duration.of(Math.max(0, end - now), ChronoUnit.MICROS);
  }

  /**
   * What a claim left, when it leaves less than one token of the queue's claim rate: at least the
   * time until the next token. Null stays null: nothing is live.
   */
  private static @Nullable Duration atRate(@Nullable Duration left, @Nullable Long rate, double tokensLeft) {
    if (left == null || rate == null || tokensLeft >= 1) {
      return left;
    }
    Duration next = Duration.of((long) Math.ceil((1 - tokensLeft) / rate * 1_000_000), ChronoUnit.MICROS);
    return next.compareTo(left) > 0 ? next : left;
  }

  /**
   * What a claim left, when it leaves a limited queue at its limit: nothing it left can be taken
   * before a lease ends, so at least the time until the first live lease ends (the held ones' or
   * this claim's own). Null stays null: nothing is live.
   */
  private static @Nullable Duration atLimit(@Nullable Duration left, @Nullable Long maxLeased,
      @Nullable SqlRow held, int granted, long now, Duration lease) {
    if (left == null || maxLeased == null || held == null || held.longValue("leases") + granted < maxLeased) {
      return left;
    }
    Long firstEnd = held.longOrNull("first_end");
    long end = granted > 0 ? now + micros(lease) : Long.MAX_VALUE;
    if (firstEnd != null) {
      end = Math.min(end, firstEnd);
    }
    if (end == Long.MAX_VALUE) {
      return left;
    }
    Duration slot = Duration.of(Math.max(0, end - now), ChronoUnit.MICROS);
    return slot.compareTo(left) > 0 ? slot : left;
  }

  @Override
  public Mono<Boolean> archive(StoreParams.LeaseRef p) {
    return db.statements("archive", s -> archiveLeased(s, p.messageId(), p.token(), microsOrNull(p.now())))
        .map(n -> n == 1);
  }

  @Override
  public Mono<Integer> archiveMany(StoreParams.ArchiveMany p) {
    return db.statements("archive", s -> s.update(sql("archive_many"), microsOrNull(p.now()), leases(p.leases())))
        .map(Long::intValue);
  }

  @Override
  public Mono<List<StoreResults.Settled>> settleMany(StoreParams.SettleMany p) {
    List<StoreParams.Settle> settles = p.settles();
    if (settles.isEmpty()) {
      return Mono.just(List.of());
    }
    // One transaction, one commit for the batch, each settle fenced on its own inside it. SQLite
    // takes the database's write lock once for the whole batch, so batches cannot deadlock.
    Long now = microsOrNull(p.now());
    return db.transaction("settle", s -> {
      java.util.Set<Long> named = new java.util.HashSet<>();
      return Flux.fromIterable(settles)
          .concatMap(settle -> named.add(settle.messageId())
              ? settleIn(s, settle, now)
              // A later settle of a message the batch already named: its first settle decides.
              : Mono.just(StoreResults.Settled.NOT_HELD))
          .collectList();
    });
  }

  /** Settles one message inside a transaction, fenced by its lease; what it found. */
  private static Mono<StoreResults.Settled> settleIn(SqlSession s, StoreParams.Settle p, @Nullable Long now) {
    String token = p.token().toString();
    Mono<Long> changed = switch (p.kind()) {
      case ARCHIVE -> archiveLeased(s, p.messageId(), p.token(), now);
      case DELETE -> s.update(sql("delete"), now, p.messageId(), token);
      case RELEASE -> s.update(sql("release"), now, p.messageId(), token,
          micros(java.util.Objects.requireNonNull(p.delay(), "delay")), p.error());
      case DEAD_LETTER -> s.update(sql("dead_letter"), now, p.messageId(), token, p.error());
    };
    return changed.flatMap(n -> {
      if (n == 1) {
        return Mono.just(StoreResults.Settled.APPLIED);
      }
      if (p.kind() != StoreParams.SettleKind.ARCHIVE) {
        return Mono.just(StoreResults.Settled.NOT_HELD);
      }
      // An archive of this very lease may have committed earlier with its answer lost.
      return first(s.query(sql("find_message"), p.messageId()),
          r -> "archived".equals(r.stringOrNull("state")) && token.equals(r.stringOrNull("lease_token"))
              ? StoreResults.Settled.ALREADY_ARCHIVED : StoreResults.Settled.NOT_HELD)
          .defaultIfEmpty(StoreResults.Settled.NOT_HELD);
    });
  }

  @Override
  public Mono<Boolean> delete(StoreParams.LeaseRef p) {
    return db.statements("delete", s -> s.update(sql("delete"), microsOrNull(p.now()), p.messageId(),
            p.token().toString()))
        .map(n -> n == 1);
  }

  @Override
  public Mono<Boolean> release(StoreParams.Release p) {
    StoreParams.LeaseRef l = p.lease();
    return db.statements("release", s -> s.update(sql("release"), microsOrNull(l.now()), l.messageId(),
            l.token().toString(), micros(p.delay()), p.error()))
        .map(n -> n == 1);
  }

  @Override
  public Mono<Lease> extend(StoreParams.Extend p) {
    StoreParams.LeaseRef l = p.lease();
    return db.statements("extend", s -> first(s.query(sql("extend"), microsOrNull(l.now()), l.messageId(),
            l.token().toString(), micros(p.duration())),
        r -> new Lease(l.messageId(), l.token(), instant(r.longValue("visible_at")))));
  }

  @Override
  public Mono<List<Lease>> extendMany(StoreParams.ExtendMany p) {
    if (p.leases().isEmpty()) {
      return Mono.just(List.of());
    }
    StringBuilder json = new StringBuilder("[");
    for (StoreParams.LeaseExtension l : p.leases()) {
      json.append(json.length() == 1 ? "" : ",").append("{\"id\":").append(l.messageId())
          .append(",\"token\":\"").append(l.token()).append("\",\"micros\":").append(micros(l.duration()))
          .append('}');
    }
    String leases = json.append(']').toString();
    return db.statements("extend leases", s -> s.query(sql("extend_many"), microsOrNull(p.now()), leases))
        .map(rows -> rows.stream()
            .map(r -> new Lease(r.longValue("id"), UUID.fromString(r.string("lease_token")),
                instant(r.longValue("visible_at"))))
            .toList());
  }

  @Override
  public Mono<Boolean> deadLetter(StoreParams.DeadLetter p) {
    StoreParams.LeaseRef l = p.lease();
    return db.statements("dead-letter", s -> s.update(sql("dead_letter"), microsOrNull(l.now()), l.messageId(),
            l.token().toString(), p.error()))
        .map(n -> n == 1);
  }

  @Override
  public Mono<Message> findMessage(long id) {
    return db.statements("get message", s -> first(s.query(sql("find_message"), id),
        r -> message(r, r.string("queue"))));
  }

  @Override
  public Mono<Duration> untilNextVisible(String queue, @Nullable Instant now) {
    return db.statements("find the next due message", s -> first(s.query(sql("until_next_visible"),
            microsOrNull(now), queue), r -> Optional.ofNullable(durationOrNull(r, "micros"))))
        .flatMap(Mono::justOrEmpty);
  }

  @Override
  public Mono<Long> countClaimable(String queue, @Nullable Instant now) {
    return db.statements("count claimable messages", s -> first(s.query(sql("count_claimable"),
        microsOrNull(now), queue), r -> r.longValue("claimable")));
  }

  @Override
  public Flux<Message> listMessages(StoreParams.ListMessages p) {
    return db.statements("list messages", s -> s.query(sql("list_messages"), p.queue(),
            p.state().name().toLowerCase(Locale.ROOT), p.afterId(), p.limit()))
        .flatMapIterable(rows -> rows.stream().map(r -> message(r, p.queue())).toList());
  }

  @Override
  public Mono<Long> replayDead(StoreParams.Replay p) {
    String idFilter = p.ids() == null ? null : ids(p.ids());
    return db.transaction("replay dead letters", s -> lockQueue(s, p.queue(), p.now())
            .flatMap(q -> s.update(sql("replay_dead"), q.longValue("now"), q.longValue("id"), idFilter)))
        .doOnSuccess(n -> {
          if (n != null && n > 0) {
            wake(p.queue());
          }
        });
  }

  @Override
  public Mono<Long> purgeMessages(StoreParams.PurgeMessages p) {
    return Mono.defer(() -> {
      String statement = switch (p.state()) {
        case ARCHIVED -> sql("purge_archived");
        case DEAD -> sql("purge_dead");
        case LIVE -> throw new IllegalArgumentException("live messages are purged with purgeQueue");
      };
      return db.transaction("purge " + p.state().name().toLowerCase(Locale.ROOT) + " messages",
          s -> lockQueue(s, p.queue(), p.now()).flatMap(q -> s.update(statement, q.longValue("now"),
              q.longValue("id"), microsOrNull(p.olderThan()), p.limit())));
    });
  }

  // ---------------------------------------------------------------- workers

  private static Mono<WorkerInfo> selectWorker(SqlSession s, long id) {
    return first(s.query(sql("find_worker"), id), SqliteDriver::worker);
  }

  @Override
  public Mono<WorkerInfo> registerWorker(StoreParams.RegisterWorker p) {
    return db.transaction("register worker", s -> {
      Mono<Optional<Long>> queueId = p.queue() == null
          ? Mono.just(Optional.empty())
          : lockQueue(s, p.queue(), p.now()).map(q -> Optional.of(q.longValue("id")));
      return queueId.flatMap(qid -> first(s.query(sql("register_worker"), microsOrNull(p.now()), p.name(),
                  qid.orElse(null), p.hostname(), p.pid()), r -> r.longValue("id"))
          .switchIfEmpty(Mono.error(() -> new WorkerAlreadyExistsException(p.name(),
              "a worker named '" + p.name() + "' is registered already")))
          .flatMap(id -> selectWorker(s, id)));
    });
  }

  @Override
  public Mono<WorkerStatus> heartbeat(StoreParams.Heartbeat p) {
    return db.statements("heartbeat", s -> first(s.query(sql("heartbeat"), microsOrNull(p.now()), p.workerId()),
        r -> WorkerStatus.valueOf(r.string("status").toUpperCase(Locale.ROOT))));
  }

  @Override
  public Mono<WorkerInfo> setWorkerStatus(StoreParams.SetWorkerStatus p) {
    return db.transaction("set worker status", s -> s.update(sql("set_worker_status"), p.workerId(),
            p.status().name().toLowerCase(Locale.ROOT))
        .then(selectWorker(s, p.workerId())));
  }

  /** A worker's live leases, counted at the unit of work's time, which later statements take. */
  private record Leases(long count, long now) {}

  private static Mono<Leases> leasesOf(SqlSession s, long workerId, @Nullable Instant now) {
    return first(s.query(sql("count_worker_leases"), microsOrNull(now), workerId),
        r -> new Leases(r.longValue("leases"), r.longValue("now")));
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> shutdownWorker(StoreParams.ShutdownWorker p) {
    return db.transaction("shutdown worker", s -> selectWorker(s, p.workerId())
        .flatMap(w -> leasesOf(s, p.workerId(), p.now()).flatMap(leases -> {
          if (leases.count() > 0 && !p.releaseLeases()) {
            return Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases.count()));
          }
          Mono<Long> released = leases.count() == 0 ? Mono.just(0L)
              : s.update(sql("release_worker_leases"), leases.now(), p.workerId());
          return released.flatMap(count -> s.update(sql("stop_worker"), leases.now(), p.workerId())
              .thenReturn(new StoreResults.WorkerStopped(count)));
        }))
        .defaultIfEmpty(new StoreResults.WorkerMissing()));
  }

  @Override
  public Mono<WorkerInfo> findWorker(long workerId) {
    return db.statements("get worker", s -> selectWorker(s, workerId));
  }

  @Override
  public Flux<WorkerInfo> listWorkers(@Nullable String queue) {
    return db.statements("list workers", s -> s.query(sql("list_workers"), queue))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::worker).toList());
  }

  @Override
  public Flux<WorkerHealth> workerHealth(StoreParams.WorkerHealthQuery p) {
    return db.statements("worker health", s -> s.query(sql("worker_health"), microsOrNull(p.now()),
            micros(p.staleAfter())))
        .flatMapIterable(rows -> rows.stream().map(r -> new WorkerHealth(worker(r),
            Duration.of(r.longValue("since_heartbeat_us"), ChronoUnit.MICROS), r.longValue("stale") != 0,
            r.longValue("leases"))).toList());
  }

  @Override
  public Mono<StoreResults.WorkerShutdown> deleteWorker(long workerId) {
    return db.transaction("delete worker", s -> selectWorker(s, workerId)
        .flatMap(w -> leasesOf(s, workerId, null).flatMap(leases -> leases.count() > 0
            ? Mono.<StoreResults.WorkerShutdown>just(new StoreResults.WorkerBusy(leases.count()))
            : s.update(sql("delete_worker"), workerId).thenReturn(new StoreResults.WorkerStopped(0))))
        .defaultIfEmpty(new StoreResults.WorkerMissing()));
  }

  // ---------------------------------------------------------------- metrics

  @Override
  public Flux<QueueMetrics> queueMetrics(StoreParams.MetricsQuery p) {
    return db.statements("queue metrics", s -> s.query(sql("queue_metrics"), microsOrNull(p.now()), p.queue()))
        .flatMapIterable(rows -> rows.stream().map(r -> new QueueMetrics(r.string("name"), r.longValue("pending"),
            r.longValue("leased"), r.longValue("delayed"), r.longValue("archived"), r.longValue("dead"),
            durationOrNull(r, "oldest_pending_us"))).toList());
  }

  @Override
  public Flux<StoreResults.ArchivedBucket> queueThroughput(StoreParams.ThroughputQuery p) {
    return db.statements("queue throughput", s -> s.query(sql("queue_throughput"), microsOrNull(p.now()), p.queue(),
            micros(p.window()), micros(p.bucket())))
        .flatMapIterable(rows -> rows.stream().map(r -> new StoreResults.ArchivedBucket(instant(r.longValue("now")),
            r.longOrNull("bucket"), r.longValue("archived"))).toList());
  }

  // ---------------------------------------------------------------- maintenance

  // The statements of the maintenance services are in sql/maintenance.sql. Their clock is the
  // database's (see _now there), so stores on several hosts sharing a Turso database agree on
  // ages; each batch is one statement or one short transaction of a bounded number of rows.

  @Override
  public Mono<StoreResults.TurnTaken> takeMaintenanceTurn(StoreParams.MaintenanceTurn p) {
    Long now = microsOrNull(p.now());
    return Mono.defer(() -> db.statements("take maintenance turn", s -> first(
            s.query(sql("take_turn"), now, p.service(), p.force() ? 1 : 0, micros(p.interval()), p.instance()),
            r -> new StoreResults.TurnTaken(true, instant(r.longValue("now"))))
        .switchIfEmpty(Mono.defer(() -> first(s.query(sql("turn_not_taken"), now, p.service()), r -> {
          if (r.longValue("known") == 0) {
            throw new io.pgqrs.SchemaNotInstalledException(where, "take maintenance turn: " + where
                + " has no schedule for maintenance service '" + p.service() + "'; run admin().install()");
          }
          return new StoreResults.TurnTaken(false, instant(r.longValue("now")));
        })))));
  }

  @Override
  public Flux<StoreResults.MaintenanceSchedule> maintenanceSchedules() {
    return Mono.defer(() -> db.statements("maintenance schedules", s -> s.query(sql("schedules"))))
        .flatMapIterable(rows -> rows.stream().map(r -> new StoreResults.MaintenanceSchedule(r.string("name"),
            instant(r.longValue("next_run_at")), instantOrNull(r, "last_run_at"), r.stringOrNull("last_instance"),
            r.longValue("runs"))).toList());
  }

  @Override
  public Mono<StoreResults.WorkersRescued> rescueStaleWorkers(StoreParams.RescueStaleWorkers p) {
    Long now = microsOrNull(p.now());
    return Mono.defer(() -> db.transaction("rescue stale workers", s -> s.query(sql("stop_stale_workers"),
                now, micros(p.staleAfter()), p.limit())
            .flatMap(stopped -> {
              if (stopped.isEmpty()) {
                return Mono.just(new StoreResults.WorkersRescued(0, 0, List.of()));
              }
              List<Long> workerIds = stopped.stream().map(r -> r.longValue("id")).toList();
              return s.query(sql("release_leases_of_workers"), now, ids(workerIds))
                  .flatMap(released -> {
                    List<Long> queueIds = released.stream().map(r -> r.longValue("queue_id")).distinct().toList();
                    Mono<List<SqlRow>> names = queueIds.isEmpty() ? Mono.just(List.of())
                        : s.query(sql("queue_names"), ids(queueIds));
                    return names.map(rows -> new StoreResults.WorkersRescued(workerIds.size(), released.size(),
                        rows.stream().map(r -> r.string("name")).toList()));
                  });
            })))
        // Woken after the commit: a consumer that claims on the signal sees the released rows.
        .doOnNext(rescued -> rescued.queuesWoken().forEach(this::wake));
  }

  @Override
  public Mono<Long> purgeArchived(StoreParams.PurgeBatch p) {
    return purge("purge archived messages", sql("purge_archived_batch"), p);
  }

  @Override
  public Mono<Long> purgeDeadLetters(StoreParams.PurgeBatch p) {
    return purge("purge dead letters", sql("purge_dead_letters"), p);
  }

  @Override
  public Mono<Long> purgeStoppedWorkers(StoreParams.PurgeBatch p) {
    return purge("purge stopped workers", sql("purge_stopped_workers"), p);
  }

  /** One purge statement taking the clock, the retention and the limit; atomic on its own. */
  private Mono<Long> purge(String operation, String statement, StoreParams.PurgeBatch p) {
    return Mono.defer(() -> db.statements(operation, s -> s.update(statement,
        microsOrNull(p.now()), micros(p.olderThan()), p.limit())));
  }

  @Override
  public Mono<StoreResults.FinishedRunsPurged> purgeFinishedRuns(StoreParams.PurgeBatch p) {
    return Mono.defer(() -> db.transaction("purge finished runs", s -> s.query(sql("finished_runs"),
            microsOrNull(p.now()), micros(p.olderThan()), p.limit())
        .flatMap(found -> {
          if (found.isEmpty()) {
            return Mono.just(new StoreResults.FinishedRunsPurged(0, 0, 0));
          }
          String runIds = ids(found.stream().map(r -> r.longValue("id")).toList());
          return s.update(sql("delete_steps_of_runs"), runIds)
              .flatMap(steps -> s.update(sql("delete_signals_of_runs"), runIds)
                  .flatMap(signals -> s.update(sql("delete_events_of_runs"), runIds).then(s.update(sql("delete_runs"), runIds))
                      .map(runs -> new StoreResults.FinishedRunsPurged(runs, steps, signals))));
        })));
  }

  @Override
  public Mono<Long> reapRuns(StoreParams.ReapRuns p) {
    Long now = microsOrNull(p.now());
    String moves = table(p.moves());
    return Mono.defer(() -> db.transaction("reap runs", s -> s.query(sql("stuck_runs"), now, p.limit(), moves)
            .flatMap(due -> {
              if (due.isEmpty()) {
                return Mono.just(List.<Long>of());
              }
              List<Long> runIds = due.stream().map(r -> r.longValue("id")).toList();
              List<Long> timedOut = due.stream().filter(r -> r.longValue("timed_out") != 0)
                  .map(r -> r.longValue("id")).toList();
              List<Long> messageIds = due.stream().map(r -> r.longOrNull("message_id"))
                  .filter(java.util.Objects::nonNull).toList();
              return s.update(sql("archive_messages_of_runs"), now, ids(messageIds))
                  .then(s.update(sql("fail_runs"), now, ids(runIds), ids(timedOut), moves))
                  .thenReturn(runIds);
            })))
        // Announced after the commit, like every other end of a run.
        .map(ended -> {
          ended.forEach(this::announceRunFinished);
          return (long) ended.size();
        });
  }

  // ---------------------------------------------------------------- workflows

  /** How long from the store's {@code now} until {@code at}, both in microseconds: zero once passed. */
  private static Duration until(long now, long at) {
    return at <= now ? Duration.ZERO : Duration.of(at - now, ChronoUnit.MICROS);
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
        instantOrNull(row, "deadline_at"),
        row.stringOrNull("version"),
        row.longOrNull("parent_run_id"),
        row.longOrNull("forked_from"));
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
        instantOrNull(row, "finished_at"),
        row.stringOrNull("position"));
  }

  /**
   * A run as read inside a unit of work, with its trigger message, the queue that message is on
   * (the workflow's, or its version's; null without a message) and the unit's time.
   */
  private record ReadRun(RunInfo run, @Nullable Long messageId, @Nullable String queue, long now) {

    /** The queue to wake for the run: its message's, else the workflow's. */
    String wakeQueue() {
      return queue == null ? run.workflow() : queue;
    }
  }

  /**
   * Reads a run inside a transaction, and the transaction's time. BEGIN IMMEDIATE already holds the
   * write lock, so this read is what PostgreSQL's {@code FOR UPDATE} makes it there: nobody changes
   * the run until the commit.
   */
  private static Mono<ReadRun> lockRun(SqlSession s, long runId, @Nullable Instant now) {
    return first(s.query(sql("lock_run"), microsOrNull(now), runId),
        r -> new ReadRun(run(r), r.longOrNull("message_id"), r.stringOrNull("queue"), r.longValue("now")));
  }

  private static Mono<RunInfo> selectRun(SqlSession s, long runId) {
    return first(s.query(sql("find_run"), runId), SqliteDriver::run);
  }

  /** Archives a message a worker holds, fenced by its lease. */
  private static Mono<Long> archiveLeased(SqlSession s, long messageId, UUID token, @Nullable Long now) {
    return s.update(sql("archive"), now, messageId, token.toString());
  }

  /** Archives a message nobody holds: never leased, released, or whose lease has expired. */
  private static Mono<Long> archiveUnleased(SqlSession s, long messageId, long now) {
    return s.update(sql("archive_unleased"), now, messageId);
  }

  /** Makes a released or delayed message visible now; how many rows changed. */
  private static Mono<Long> wakeRun(SqlSession s, long messageId, long now) {
    return s.update(sql("wake_run"), now, messageId);
  }

  @Override
  public Mono<Void> registerWorkflow(StoreParams.RegisterWorkflow p) {
    Long now = microsOrNull(p.now());
    String versionQueue = p.versionQueue();
    return db.transaction("register workflow", s -> s.update(sql("register_queue"), now, p.workflow(), p.maxAttempts())
            .then(versionQueue == null ? Mono.just(0L) : s.update(sql("register_queue"), now, versionQueue,
                p.maxAttempts()))
            .then(s.update(sql("register_workflow"), now, p.workflow()))
            .thenReturn(true))
        .then();
  }

  @Override
  public Mono<StoreResults.Triggered> triggerRun(StoreParams.TriggerRun p) {
    StoreParams.LeaseTaking leaseTo = p.leaseTo();
    return db.transaction("trigger run", s -> triggerIn(s, p))
        // Woken after the commit, like enqueue: a consumer that claims on the signal sees the run.
        // A message leased by the trigger needs no consumer.
        .doOnSuccess(t -> {
          if (t != null && t.created() && leaseTo == null) {
            wake(p.queue());
          }
        });
  }

  /** The statements of a trigger, in the caller's unit of work. */
  private static Mono<StoreResults.Triggered> triggerIn(SqlSession s, StoreParams.TriggerRun p) {
    record Workflow(long queueId, long now) {}
    StoreParams.LeaseTaking leaseTo = p.leaseTo();
    Long workerId = leaseTo == null ? null : leaseTo.workerId();
    Long lease = leaseTo == null ? null : micros(leaseTo.lease());
    return first(s.query(sql("find_workflow"), microsOrNull(p.now()),
            p.workflow(), p.queue()), r -> new Workflow(r.longValue("queue_id"), r.longValue("now")))
        .switchIfEmpty(Mono.error(() -> new WorkflowNotFoundException(p.workflow())))
        .flatMap(w -> first(s.query(sql("trigger_run"), w.now(), p.workflow(), p.inputJson(), p.idempotencyKey(),
                microsOrNull(p.timeout()), p.version(), leaseTo == null ? 0 : 1, p.parentRunId(),
                p.cancelWithParent() ? 1 : 0), SqliteDriver::run)
            .flatMap(run -> first(s.query(sql("enqueue_run_message"), w.now(), w.queueId(), run.id(), workerId,
                    lease, p.headersJson()), r -> message(r, p.queue()))
                .flatMap(message -> s.update(sql("link_run_message"), run.id(), message.id())
                    .thenReturn(leaseTo == null
                        ? new StoreResults.Triggered(run.id(), true)
                        : new StoreResults.Triggered(run.id(), true, message, new StoreResults.RunBegun(run,
                            run.deadline() == null ? null : until(w.now(), micros(run.deadline())), List.of())))))
            .switchIfEmpty(Mono.defer(() -> first(s.query(sql("run_by_key"), p.workflow(), p.idempotencyKey()),
                r -> new StoreResults.Triggered(r.longValue("id"), false)))));
  }

  // ---------------------------------------------------------------- schedules

  private static io.pgqrs.schedule.ScheduleInfo schedule(SqlRow row) {
    return StoreResults.schedule(row.string("name"), row.string("cron"), row.string("zone"),
        row.string("target_kind"), row.string("target"), row.stringOrNull("version"), row.string("payload"),
        row.longOrNull("timeout_ms"), row.intValue("missed_max"), row.longValue("paused") != 0,
        instant(row.longValue("next_fire_at")), instantOrNull(row, "last_fired_at"),
        instant(row.longValue("created_at")), instant(row.longValue("updated_at")));
  }

  @Override
  public Mono<Instant> currentTime(@Nullable Instant now) {
    return db.statements("read the clock", s -> first(s.query(sql("current_time"), microsOrNull(now)),
        r -> instant(r.longValue("now"))));
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> createSchedule(StoreParams.CreateSchedule p) {
    return db.statements("create schedule", s -> first(s.query(sql("create_schedule"), scheduleArgs(p)),
            SqliteDriver::schedule))
        .switchIfEmpty(Mono.error(() -> new io.pgqrs.schedule.ScheduleAlreadyExistsException(p.name())));
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> declareSchedule(StoreParams.CreateSchedule p) {
    return db.statements("declare schedule", s -> first(s.query(sql("declare_schedule"), scheduleArgs(p)),
        SqliteDriver::schedule));
  }

  private static @Nullable Object[] scheduleArgs(StoreParams.CreateSchedule p) {
    Duration timeout = p.timeout();
    return new @Nullable Object[] {microsOrNull(p.now()), p.name(), p.cron(), p.zone(),
        p.workflowTarget() ? "workflow" : "queue", p.target(), p.version(), p.payloadJson(),
        timeout == null ? null : timeout.toMillis(), p.missedMax(), micros(p.nextFireAt())};
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> findSchedule(String name) {
    return db.statements("find schedule", s -> first(s.query(sql("find_schedule"), name), SqliteDriver::schedule));
  }

  @Override
  public Flux<io.pgqrs.schedule.ScheduleInfo> listSchedules() {
    return db.statements("list schedules", s -> s.query(sql("list_schedules")))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::schedule).toList());
  }

  @Override
  public Mono<io.pgqrs.schedule.ScheduleInfo> pauseSchedule(StoreParams.PauseSchedule p) {
    return db.statements(p.paused() ? "pause schedule" : "resume schedule", s -> first(s.query(sql("pause_schedule"),
        microsOrNull(p.now()), p.name(), p.paused() ? 1 : 0, microsOrNull(p.resumeAt())), SqliteDriver::schedule));
  }

  @Override
  public Mono<Boolean> deleteSchedule(String name) {
    return db.statements("delete schedule", s -> s.update(sql("delete_schedule"), name)).map(n -> n > 0);
  }

  @Override
  public Mono<StoreResults.DueSchedules> dueSchedules(StoreParams.DueSchedules p) {
    return db.statements("due schedules", s -> s.query(sql("due_schedules"), microsOrNull(p.now()), p.limit()))
        .map(rows -> {
          long now = rows.get(0).longValue("now");
          Long ahead = rows.get(0).longOrNull("ahead");
          List<io.pgqrs.schedule.ScheduleInfo> due = new ArrayList<>();
          for (SqlRow row : rows) {
            if (row.stringOrNull("name") != null) {
              due.add(schedule(row));
            }
          }
          return new StoreResults.DueSchedules(instant(now), due, ahead == null ? null : until(now, ahead));
        });
  }

  @Override
  public Mono<StoreResults.ScheduleFired> fireSchedule(StoreParams.FireSchedule p) {
    record Fired(StoreResults.ScheduleFired result, @Nullable String queue) {}
    Instant newest = p.ticks().isEmpty() ? null : p.ticks().get(p.ticks().size() - 1).at();
    return db.transaction("fire schedule", s -> first(s.query(sql("advance_schedule"), p.name(),
            micros(p.expectedNextFireAt()), micros(p.nextFireAt()), microsOrNull(newest)), r -> r)
        .flatMap(t -> {
          boolean workflow = "workflow".equals(t.string("target_kind"));
          String target = t.string("target");
          String version = t.stringOrNull("version");
          String payload = t.string("payload");
          Long timeoutMs = t.longOrNull("timeout_ms");
          String queue = workflow ? (version == null ? target : target + "@" + version) : target;
          return Flux.fromIterable(p.ticks())
              .concatMap(tick -> workflow
                  ? triggerIn(s, new StoreParams.TriggerRun(target, queue, version, payload, tick.key(),
                      timeoutMs == null ? null : Duration.ofMillis(timeoutMs), null, p.now()))
                      .map(StoreResults.Triggered::created)
                  : enqueueIn(s, new StoreParams.Enqueue(queue, List.of(new StoreParams.NewRow(payload, null, null,
                      tick.key(), 0)), p.now()), new @Nullable Long[] {null})
                      .map(out -> out.get(0).inserted()))
              .filter(Boolean::booleanValue)
              .count()
              .map(created -> new Fired(new StoreResults.ScheduleFired(true, created.intValue()), queue));
        })
        .defaultIfEmpty(new Fired(new StoreResults.ScheduleFired(false, 0), null)))
        .doOnNext(fired -> {
          // Committed: wake the consumers of what the ticks created.
          if (fired.result().created() > 0 && fired.queue() != null) {
            wake(fired.queue());
          }
        })
        .map(Fired::result);
  }

  @Override
  public Mono<StoreResults.RunBegun> beginRun(StoreParams.BeginRun p) {
    // One statement: the run begun, the statement's now to tell how long the run has until its
    // deadline, and the run's history as a JSON array.
    return db.statements("begin run", s -> beginIn(s, p));
  }

  private static Mono<StoreResults.RunBegun> beginIn(SqlSession s, StoreParams.BeginRun p) {
    return first(s.query(sql("begin_run"), microsOrNull(p.now()), p.runId(), table(p.moves())), row -> {
      Long deadline = row.longOrNull("deadline_at");
      return new StoreResults.RunBegun(run(row), deadline == null ? null : until(row.longValue("now"), deadline),
          history(row.string("history")));
    });
  }

  /** The recorded steps of begin_run's JSON array, in its order. */
  private static List<StoreResults.StepRecord> history(String json) {
    List<StoreResults.StepRecord> steps = new ArrayList<>();
    for (JsonNode h : Json.parse(json)) {
      JsonNode wake = h.path("until_wake");
      steps.add(new StoreResults.StepRecord(text(h, "position"), h.path("step_id").asText(),
          StepStatus.valueOf(h.path("status").asText()), text(h, "output"), text(h, "output_type"), text(h, "error"),
          h.path("attempts").asInt(), wake.isNumber() ? Duration.of(wake.asLong(), ChronoUnit.MICROS) : null,
          text(h, "awaiting"), h.path("completion").asInt(), h.path("signalled").asBoolean()));
    }
    return steps;
  }

  /** A text member of a JSON object built in SQL, or null when it is SQL NULL (JSON null). */
  private static @Nullable String text(JsonNode object, String member) {
    JsonNode v = object.path(member);
    return v.isTextual() ? v.asText() : null;
  }

  @Override
  public Mono<List<StoreResults.StepWritten>> recordSteps(StoreParams.RecordSteps p) {
    List<StoreParams.RecordStep> steps = List.copyOf(p.steps());
    if (steps.isEmpty()) {
      return Mono.just(List.of());
    }
    // The first statement reads the batch's time and its runs' statuses (a step record never
    // changes them); then one statement per record, each fenced on its own.
    String runIds = ids(steps.stream().map(StoreParams.RecordStep::runId).distinct().toList());
    return db.transaction("record steps", s -> s.query(sql("run_statuses"), microsOrNull(p.now()), runIds)
        .flatMap(rows -> {
          long now = rows.get(0).longValue("now");
          Map<Long, RunStatus> statuses = new HashMap<>();
          for (SqlRow r : rows) {
            Long id = r.longOrNull("id");
            if (id != null) {
              statuses.put(id, RunStatus.valueOf(r.string("status")));
            }
          }
          return Flux.fromIterable(steps)
              .concatMap(step -> recordStep(s, now, step, step.lease().messageId(), step.lease().token())
                  .map(n -> new StoreResults.StepWritten(n == 1, statuses.get(step.runId()))))
              .collectList();
        }));
  }

  /** Writes one step record fenced by the lease (message, token) at {@code now}; how many rows changed. */
  private static Mono<Long> recordStep(SqlSession s, long now, StoreParams.RecordStep step, long messageId,
      UUID token) {
    return s.update(sql("record_step"), now, step.runId(), messageId, token.toString(), step.stepId(),
        step.status().name(), step.outputJson(), step.outputType(), step.error(), step.attempts(), step.position(),
        step.completion(), step.awaiting(), microsOrNull(step.wakeAfter()), micros(step.ranFor()));
  }

  @Override
  public Mono<StoreResults.SignalTaken> takeSignal(StoreParams.TakeSignal p) {
    // The fence and the pending signal are read first; the step is recorded only if the lease
    // holds, and the signal consumed only if the step was recorded.
    StoreParams.LeaseRef lease = p.lease();
    return db.transaction("take signal", s -> first(s.query(sql("pending_signal_for_step"), microsOrNull(lease.now()),
            p.runId(), lease.messageId(), lease.token().toString(), p.name()), r -> r)
        .flatMap(found -> {
          if (found.longValue("held") == 0) {
            return Mono.just(new StoreResults.SignalTaken(null, false));
          }
          Long signalId = found.longOrNull("id");
          if (signalId == null) {
            return Mono.just(new StoreResults.SignalTaken(null, true));
          }
          String value = found.string("value");
          return s.update(sql("record_taken_signal"), found.longValue("now"), p.runId(), p.stepId(), p.position(),
                  value, p.completion())
              .flatMap(recorded -> recorded != 1
                  ? Mono.just(new StoreResults.SignalTaken(null, true))
                  : s.update(sql("consume_signal"), p.stepId(), signalId)
                      .thenReturn(new StoreResults.SignalTaken(value, true)));
        }));
  }

  @Override
  public Mono<StoreResults.StepWritten> setEvent(StoreParams.SetEvent p) {
    // The fence is read first; the step is recorded only if the lease holds, and the event
    // appended only if the step was recorded now.
    StoreParams.LeaseRef lease = p.lease();
    return db.transaction("set event", s -> first(s.query(sql("event_fence"), microsOrNull(lease.now()),
            p.runId(), lease.messageId(), lease.token().toString()), r -> r)
        .flatMap(fence -> {
          String status = fence.stringOrNull("run_status");
          RunStatus runStatus = status == null ? null : RunStatus.valueOf(status);
          if (fence.longValue("held") == 0) {
            return Mono.just(new StoreResults.StepWritten(false, runStatus));
          }
          long now = fence.longValue("now");
          return s.update(sql("record_event_step"), now, p.runId(), p.stepId(), p.position(), p.completion())
              .flatMap(recorded -> recorded != 1
                  ? Mono.just(new StoreResults.StepWritten(false, runStatus))
                  : s.update(sql("insert_run_event"), now, p.runId(), p.key(), p.position(), p.valueJson())
                      .thenReturn(new StoreResults.StepWritten(true, runStatus)));
        }));
  }

  @Override
  public Flux<StoreResults.RunSignal> listSignals(StoreParams.ListSignals p) {
    return db.statements("list signals", s -> s.query(sql("list_run_signals"), p.runId(), p.afterId(), p.limit()))
        .flatMapIterable(rows -> rows.stream().map(r -> new StoreResults.RunSignal(r.longValue("id"),
            r.longValue("run_id"), r.string("name"), r.string("value"), instant(r.longValue("sent_at")),
            r.stringOrNull("consumed_by"))).toList());
  }

  @Override
  public Flux<StoreResults.RunEvent> listEvents(StoreParams.ListEvents p) {
    return Flux.defer(() -> {
      if (p.runIds().isEmpty()) {
        return Flux.empty();
      }
      StringBuilder pairs = new StringBuilder("[");
      for (int i = 0; i < p.runIds().size(); i++) {
        pairs.append(i == 0 ? "[" : ",[").append(p.runIds().get(i)).append(',').append(p.afterSeqs().get(i)).append(']');
      }
      return db.statements("list events", s -> s.query(sql("list_run_events"), pairs.append(']').toString(), p.limit()))
          .flatMapIterable(rows -> rows.stream().map(r -> new StoreResults.RunEvent(r.longValue("run_id"),
              r.longValue("seq"), r.string("key"), r.string("value"), instant(r.longValue("created_at")))).toList());
    });
  }

  @Override
  public Mono<Boolean> suspendRun(StoreParams.SuspendRun p) {
    record Suspended(boolean dueNow, String queue) {}
    return db.transaction("suspend run", s -> lockRun(s, p.runId(), p.lease().now())
        .flatMap(read -> read.messageId() == null ? Mono.<Suspended>empty()
            : first(s.query(sql("suspend_message"), read.now(), p.runId(), read.messageId(),
                    p.lease().token().toString(), microsOrNull(p.wakeAfter()), statuses(p.wakeAtOnce()),
                    statuses(p.parkedUntilResumed())),
                r -> new Suspended(r.longValue("visible_at") <= read.now(), read.wakeQueue()))
            .flatMap(suspended -> p.failed()
                ? s.update(sql("count_failure"), read.now(), p.runId()).thenReturn(suspended)
                : Mono.just(suspended))))
        // A message due at once (what it waits for came while it was held) wakes its consumers
        // after the commit, as the signal or control that came would have woken them.
        .doOnNext(suspended -> {
          if (suspended.dueNow()) {
            wake(suspended.queue());
          }
        })
        .map(suspended -> true)
        .defaultIfEmpty(false);
  }

  @Override
  public Mono<RunStatus> finishRun(StoreParams.FinishRun p) {
    return db.transaction("finish run", s -> finishIn(s, p, p.now()))
        // Announced after the commit: a waiter that reads the run on the signal sees it finished.
        .doOnSuccess(status -> {
          if (status != null) {
            announceRunFinished(p.runId());
          }
        });
  }

  @Override
  public Mono<List<StoreResults.RunFinished>> finishRuns(StoreParams.FinishRuns p) {
    List<StoreParams.FinishRun> runs = List.copyOf(p.runs());
    if (runs.isEmpty()) {
      return Mono.just(List.of());
    }
    // One transaction, one commit for the batch; each run fenced on its own inside it.
    return db.transaction("finish runs", s -> Flux.fromIterable(runs)
            .concatMap(run -> finishIn(s, run, p.now())
                .map(status -> new StoreResults.RunFinished(run.runId(), status))
                .defaultIfEmpty(new StoreResults.RunFinished(run.runId(), null)))
            .collectList())
        .doOnSuccess(finished -> {
          if (finished != null) {
            finished.stream().filter(f -> f.status() != null).forEach(f -> announceRunFinished(f.runId()));
          }
        });
  }

  /** Finishes one run inside a transaction as {@link StoreParams.FinishRun} says; empty when nothing changed. */
  private static Mono<RunStatus> finishIn(SqlSession s, StoreParams.FinishRun p, @Nullable Instant now) {
    return lockRun(s, p.runId(), now)
        // A run the table does not move (a finished one) is not changed, nor is its message.
        .filter(read -> p.moves().target(read.run().status()) != null)
        .flatMap(read -> {
          Long messageId = read.messageId();
          StoreParams.LeaseRef lease = p.lease();
          // The tail is written first, under the same fence as the archive that follows in this
          // transaction: the one writer sees the lease hold for both or for neither.
          Mono<Long> archived = messageId == null ? Mono.just(1L)
              : lease == null ? archiveUnleased(s, messageId, read.now()).thenReturn(1L)
              : Flux.fromIterable(p.steps())
                  .concatMap(step -> recordStep(s, read.now(), step, messageId, lease.token()))
                  .then(archiveLeased(s, messageId, lease.token(), read.now()));
          return archived.flatMap(n -> n != 1
              // The lease was lost: another worker owns the run now and will finish it.
              ? Mono.<RunStatus>empty()
              : first(s.query(sql("finish_run"), read.now(), p.runId(), table(p.moves()), p.outputJson(),
                  p.error()), r -> RunStatus.valueOf(r.string("status"))));
        });
  }

  @Override
  public Mono<RunInfo> signalRun(StoreParams.SignalRun p) {
    record Signalled(RunInfo run, String queue, boolean woken) {}
    return db.transaction("signal run", s -> lockRun(s, p.runId(), p.now())
            .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
            .flatMap(read -> {
              if (read.run().status().isFinished()) {
                return Mono.error(new RunStateException(p.runId(), read.run().status(), "signal"));
              }
              Long messageId = read.messageId();
              Mono<Long> woken = messageId == null || read.run().status() == RunStatus.PAUSED ? Mono.just(0L)
                  : s.update(sql("wake_waiting"), read.now(), messageId, p.runId(), p.name());
              return s.update(sql("insert_signal"), read.now(), p.runId(), p.name(), p.valueJson())
                  .then(woken)
                  .map(n -> new Signalled(read.run(), read.wakeQueue(), n > 0));
            }))
        .doOnSuccess(signalled -> {
          if (signalled != null && signalled.woken()) {
            wake(signalled.queue());
          }
        })
        .map(Signalled::run);
  }

  @Override
  public Mono<RunInfo> controlRun(StoreParams.ControlRun p) {
    record Controlled(RunInfo run, String queue, boolean woken, boolean ended) {}
    return db.transaction("control run", s -> lockRun(s, p.runId(), p.now())
            .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
            .flatMap(read -> {
              RunInfo run = read.run();
              if (p.unchanged().contains(run.status())) {
                return Mono.just(new Controlled(run, read.wakeQueue(), false, false));
              }
              return controlTable(s, p, read).flatMap(table -> {
                RunStatus target = table.target(run.status());
                if (target == null) {
                  return Mono.error(new RunStateException(p.runId(), run.status(),
                      p.action().name().toLowerCase(Locale.ROOT)));
                }
                return first(s.query(sql("move_run"), read.now(), p.runId(), table(table), p.reason(),
                        target.isFinished() ? 1 : 0), SqliteDriver::run)
                    .flatMap(after -> controlled(s, read, run.status(), target)
                        .map(woken -> new Controlled(after, read.wakeQueue(), woken, target == RunStatus.CANCELLED)));
              });
            }))
        // Woken and announced after the commit: a consumer or waiter that reads on the signal sees it.
        .doOnSuccess(controlled -> {
          if (controlled != null && controlled.woken()) {
            wake(controlled.queue());
          }
          if (controlled != null && controlled.ended()) {
            announceRunFinished(controlled.run().id());
          }
        })
        .map(Controlled::run);
  }

  @Override
  public Mono<RunInfo> restartRun(StoreParams.RestartRun p) {
    return db.transaction("restart run", s -> lockRun(s, p.runId(), p.now())
            .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
            .flatMap(read -> {
              RunStatus from = read.run().status();
              RunStatus to = p.moves().target(from);
              if (to == null) {
                return Mono.error(new RunStateException(p.runId(), from, "restart"));
              }
              return runQueue(s, read, p.queue())
                  .flatMap(queueId -> newRunMessage(s, read.now(), queueId, p.runId()))
                  .flatMap(messageId -> s.update(sql("restart_run_steps"), p.runId())
                      .then(first(s.query(sql("restart_run"), read.now(), p.runId(), from.name(), to.name(),
                          messageId), SqliteDriver::run)));
            }))
        .doOnSuccess(run -> {
          if (run != null) {
            wake(p.queue());
          }
        });
  }

  @Override
  public Mono<RunInfo> forkRun(StoreParams.ForkRun p) {
    return db.transaction("fork run", s -> lockRun(s, p.runId(), p.now())
            .switchIfEmpty(Mono.error(() -> new RunNotFoundException(p.runId())))
            .flatMap(read -> {
              if (!p.forkable().contains(read.run().status())) {
                return Mono.error(new RunStateException(p.runId(), read.run().status(), "fork"));
              }
              return first(s.query(sql("fork_step_completion"), p.runId(), p.fromStepId()), r -> r.longValue("completion"))
                  .switchIfEmpty(Mono.error(() -> new InvalidArgumentException("fromStep", "fromStep '"
                      + p.fromStepId() + "' is not a step of run " + p.runId())))
                  .flatMap(completion -> runQueue(s, read, p.queue())
                      .flatMap(queueId -> first(s.query(sql("fork_run"), read.now(), p.runId()), SqliteDriver::run)
                          .flatMap(created -> newRunMessage(s, read.now(), queueId, created.id())
                              .flatMap(messageId -> s.update(sql("link_run_message"), created.id(), messageId))
                              .then(s.update(sql("fork_steps"), read.now(), created.id(), p.runId(), completion))
                              .then(s.update(sql("fork_events"), created.id(), p.runId()))
                              .thenReturn(created))));
            }))
        .doOnSuccess(run -> {
          if (run != null) {
            wake(p.queue());
          }
        });
  }

  /** The id of the queue a run's new message goes on, which must still exist with its workflow. */
  private static Mono<Long> runQueue(SqlSession s, ReadRun read, String queue) {
    return first(s.query(sql("find_workflow"), read.now(), read.run().workflow(), queue), r -> r.longValue("queue_id"))
        .switchIfEmpty(Mono.error(() -> new WorkflowNotFoundException(read.run().workflow())));
  }

  /** A visible message for run {@code runId} on the queue {@code queueId}; its id. */
  private static Mono<Long> newRunMessage(SqlSession s, long now, long queueId, long runId) {
    return first(s.query(sql("enqueue_run_message"), now, queueId, runId, null, null, null), r -> r.longValue("id"));
  }

  /**
   * The table a control applies to the run as read under its lock (see {@link StoreParams.ControlRun}):
   * {@code whenUnstarted} if given and the run has no start time; else {@code whenHeld} if given and
   * a worker holds the run's message lease; else {@code moves}.
   */
  private static Mono<StoreParams.Moves> controlTable(SqlSession s, StoreParams.ControlRun p, ReadRun read) {
    StoreParams.Moves unstarted = p.whenUnstarted();
    if (unstarted != null && read.run().startedAt() == null) {
      return Mono.just(unstarted);
    }
    StoreParams.Moves held = p.whenHeld();
    Long messageId = read.messageId();
    if (held == null || messageId == null) {
      return Mono.just(p.moves());
    }
    return first(s.query(sql("message_leased"), read.now(), messageId), r -> r.longValue("leased"))
        .defaultIfEmpty(0L)
        .map(leased -> leased > 0 ? held : p.moves());
  }

  /**
   * What follows mechanically from a control's move of a run from {@code from} to {@code to}: a run
   * that moves to CANCELLED has its live message archived; one that moves from PAUSED to QUEUED or
   * RUNNING has its message made visible now. Emits whether the run's queue is to be woken.
   */
  private static Mono<Boolean> controlled(SqlSession s, ReadRun read, RunStatus from, RunStatus to) {
    Long messageId = read.messageId();
    if (messageId == null) {
      return Mono.just(false);
    }
    if (to == RunStatus.CANCELLED) {
      return s.update(sql("archive_messages_of_runs"), read.now(), ids(List.of(messageId))).thenReturn(false);
    }
    if (from == RunStatus.PAUSED && (to == RunStatus.QUEUED || to == RunStatus.RUNNING)) {
      return wakeRun(s, messageId, read.now()).map(n -> n > 0);
    }
    return Mono.just(false);
  }

  @Override
  public Mono<RunInfo> findRun(long runId) {
    return db.statements("find run", s -> selectRun(s, runId));
  }

  @Override
  public Flux<RunInfo> findRuns(List<Long> runIds) {
    return runIds.isEmpty() ? Flux.empty()
        : db.statements("find runs", s -> s.query(sql("find_runs"), ids(runIds)))
            .flatMapIterable(rows -> rows.stream().map(SqliteDriver::run).toList());
  }

  @Override
  public Flux<RunInfo> listRuns(StoreParams.ListRuns p) {
    RunQuery q = p.query();
    return db.statements("list runs", s -> s.query(sql("list_runs"), q.workflow(),
            q.status() == null ? null : q.status().name(), microsOrNull(q.createdFrom()), microsOrNull(q.createdTo()),
            q.beforeId(), q.limit(), q.parent()))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::run).toList());
  }

  @Override
  public Flux<StoreResults.UncancelledChild> uncancelledChildren(StoreParams.CancelledParentsChildren p) {
    return db.statements("list uncancelled children", s -> s.query(sql("uncancelled_children"), p.limit(),
            statuses(p.parentStatuses()), statuses(p.childStatuses())))
        .flatMapIterable(rows -> rows.stream()
            .map(row -> new StoreResults.UncancelledChild(row.longValue("id"), row.longValue("parent_run_id")))
            .toList());
  }

  @Override
  public Flux<Long> childrenCancelledWithParent(long parentRunId) {
    return db.statements("list children", s -> s.query(sql("children_cancelled_with_parent"), parentRunId))
        .flatMapIterable(rows -> rows.stream().map(row -> row.longValue("id")).toList());
  }

  @Override
  public Mono<Boolean> linkChildRun(StoreParams.LinkChildRun p) {
    return db.statements("link child run", s -> s.update(sql("link_child_run"), p.childRunId(), p.parentRunId(),
        p.cancelWithParent() ? 1 : 0)).map(n -> n > 0);
  }

  @Override
  public Flux<StepInfo> listSteps(long runId) {
    return db.statements("list steps", s -> s.query(sql("list_steps"), runId))
        .flatMapIterable(rows -> rows.stream().map(SqliteDriver::step).toList());
  }

  private void announceRunFinished(long runId) {
    Emitters.emitNext(finished, runId);
  }

  /** Finished runs of this process only: other processes sharing the database are seen by polling. */
  @Override
  public Flux<Long> runsFinished() {
    return finished.asFlux();
  }

  private void wake(String queue) {
    Emitters.emitNext(woken, queue);
  }

  @Override
  public Flux<String> wakeups(String queue) {
    return woken.asFlux().filter(queue::equals);
  }

  @Override
  public Mono<Void> close() {
    return db.close().doFinally(s -> {
      Emitters.complete(woken);
      Emitters.complete(finished);
    });
  }
}
