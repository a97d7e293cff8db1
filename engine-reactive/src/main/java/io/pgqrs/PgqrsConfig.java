package io.pgqrs;

import io.pgqrs.admin.Maintenance;
import io.pgqrs.internal.Dsns;
import io.pgqrs.internal.DurationText;
import io.pgqrs.internal.Names;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Immutable engine configuration. Build it with {@link #builder(String)}, read it from
 * {@code PGQRS_*} environment variables with {@link #fromEnvironment()}, or derive variants with
 * {@link #toBuilder()}. Every value is checked by {@link Builder#build()}; an invalid one fails with
 * a {@link ConfigurationException} naming the field. {@link #toString()} masks the password.
 *
 * <p>DSNs: {@code postgresql://user:password@host:port/database?schema=s&pool_max_size=10}
 * (also {@code postgres://}); {@code sqlite:path/to/file.db}, {@code sqlite::memory:} and
 * {@code turso://host:port} are served by the SQLite adapter module when it is on the class path.
 * Query parameters {@code schema}, {@code pool_initial_size}, {@code pool_max_size},
 * {@code wakeups}, {@code pooler}, {@code statement_timeout} and {@code lock_timeout} set the
 * matching options and are not passed on to the backend's driver; options set on the builder
 * afterwards win.
 */
public final class PgqrsConfig {

  /** Default schema: {@code public}. */
  public static final String DEFAULT_SCHEMA = "public";
  /** Default pool size kept open: 1. */
  public static final int DEFAULT_POOL_INITIAL_SIZE = 1;
  /** Default largest pool size: 10. */
  public static final int DEFAULT_POOL_MAX_SIZE = 10;
  /** Default lease (visibility timeout): 30 seconds. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
  /** Default poll interval of consumer streams: 1 second. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  /** Default worker heartbeat interval: 10 seconds. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
  /** Default max attempts of new queues: 5. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  /** Default archive retention: 7 days. */
  public static final Duration DEFAULT_ARCHIVE_RETENTION = Duration.ofDays(7);
  /** Default connect timeout: 10 seconds. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Default interval of every background maintenance service: 30 seconds. */
  public static final Duration DEFAULT_MAINTENANCE_INTERVAL = Duration.ofSeconds(30);
  /** Heartbeat intervals a worker may miss before maintenance reclaims it, unless set: 3. */
  public static final int DEFAULT_STALE_HEARTBEATS = 3;

  // Maintenance services: retentions of what grows, and the batch limit of every service.
  /** Default dead-letter retention: 14 days. */
  public static final Duration DEFAULT_DEAD_LETTER_RETENTION = Duration.ofDays(14);
  /** Default retention of finished workflow runs: 7 days. */
  public static final Duration DEFAULT_FINISHED_RUN_RETENTION = Duration.ofDays(7);
  /** Default retention of stopped workers: 1 day. */
  public static final Duration DEFAULT_STOPPED_WORKER_RETENTION = Duration.ofDays(1);
  /** Default batch limit of the maintenance services: 1000 rows. */
  public static final int DEFAULT_MAINTENANCE_BATCH_SIZE = 1000;
  /** The largest batch limit of the maintenance services: 100,000 rows. */
  public static final int MAX_MAINTENANCE_BATCH_SIZE = 100_000;
  /** Default statement timeout of the engine's PostgreSQL connections: 60 seconds. */
  public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(60);
  /** Default lock timeout of the engine's PostgreSQL connections: 10 seconds. */
  public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);

  /**
   * What sits between the engine and PostgreSQL; set with the DSN parameter {@code pooler}
   * ({@code none} or {@code transaction}) or {@code PGQRS_POOLER}. The engine cannot tell a pooler
   * from a server (PgBouncer answers as the server it fronts, on any port), so it is told.
   */
  public enum Pooler {
    /** A direct connection, or a pooler in session mode: every PostgreSQL feature is used. */
    NONE,
    /**
     * A pooler in transaction mode (PgBouncer {@code pool_mode = transaction}): consecutive
     * transactions of one client may run on different server connections. The engine then uses
     * unnamed statements only, never LISTENs (consumers and {@code result()} poll), and sets its
     * timeouts per transaction instead of per connection.
     */
    TRANSACTION
  }

  private final String dsn;
  private final String backend;
  private final String schema;
  private final int poolInitialSize;
  private final int poolMaxSize;
  private final Duration leaseDuration;
  private final Duration pollInterval;
  private final Duration heartbeatInterval;
  private final int maxAttempts;
  private final Duration archiveRetention;
  private final Duration connectTimeout;
  private final Duration maintenanceInterval;
  /** Null when derived from the heartbeat interval, so a derived copy keeps deriving. */
  private final @Nullable Duration workerStaleAfter;
  /** Null when not set, so that the pooler decides: a transaction pooler has no wake-ups. */
  private final @Nullable Boolean wakeups;
  private final Pooler pooler;
  private final Duration statementTimeout;
  private final Duration lockTimeout;
  // Time sources: code only, never from the environment. Null means the default.
  private final @Nullable Clock clock;
  private final @Nullable Clock storeClock;
  private final @Nullable Scheduler scheduler;
  private final Duration deadLetterRetention;
  private final Duration finishedRunRetention;
  private final Duration stoppedWorkerRetention;
  private final int maintenanceBatchSize;

  private PgqrsConfig(Builder b) {
    this.dsn = b.dsn;
    this.backend = b.backend;
    this.schema = b.schema;
    this.poolInitialSize = b.poolInitialSize;
    this.poolMaxSize = b.poolMaxSize;
    this.leaseDuration = b.leaseDuration;
    this.pollInterval = b.pollInterval;
    this.heartbeatInterval = b.heartbeatInterval;
    this.maxAttempts = b.maxAttempts;
    this.archiveRetention = b.archiveRetention;
    this.connectTimeout = b.connectTimeout;
    this.maintenanceInterval = b.maintenanceInterval;
    this.workerStaleAfter = b.workerStaleAfter;
    this.wakeups = b.wakeups;
    this.pooler = b.pooler;
    this.statementTimeout = b.statementTimeout;
    this.lockTimeout = b.lockTimeout;
    this.clock = b.clock;
    this.storeClock = b.storeClock;
    this.scheduler = b.scheduler;
    this.deadLetterRetention = b.deadLetterRetention;
    this.finishedRunRetention = b.finishedRunRetention;
    this.stoppedWorkerRetention = b.stoppedWorkerRetention;
    this.maintenanceBatchSize = b.maintenanceBatchSize;
  }

  /**
   * Starts a builder from a DSN; its query parameters preset schema and pool sizes.
   *
   * @param dsn the data source name
   * @return a builder
   * @throws ConfigurationException naming {@code dsn} if the DSN cannot be parsed or its scheme is unknown
   */
  public static Builder builder(String dsn) {
    return new Builder(dsn);
  }

  /**
   * Reads the configuration from this process's environment; see {@link #fromEnvironment(Map)}.
   *
   * @return the configuration
   * @throws ConfigurationException naming the variable that is missing or invalid
   */
  public static PgqrsConfig fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Reads the configuration from {@code PGQRS_*} variables: {@code PGQRS_DSN} (required),
   * {@code PGQRS_SCHEMA}, {@code PGQRS_POOL_INITIAL_SIZE}, {@code PGQRS_POOL_MAX_SIZE},
   * {@code PGQRS_LEASE_DURATION}, {@code PGQRS_POLL_INTERVAL}, {@code PGQRS_HEARTBEAT_INTERVAL},
   * {@code PGQRS_MAX_ATTEMPTS}, {@code PGQRS_ARCHIVE_RETENTION}, {@code PGQRS_CONNECT_TIMEOUT},
   * {@code PGQRS_MAINTENANCE_INTERVAL}, {@code PGQRS_WORKER_STALE_AFTER}, {@code PGQRS_WAKEUPS},
   * {@code PGQRS_POOLER}, {@code PGQRS_STATEMENT_TIMEOUT}, {@code PGQRS_LOCK_TIMEOUT},
   * {@code PGQRS_DEAD_LETTER_RETENTION}, {@code PGQRS_FINISHED_RUN_RETENTION},
   * {@code PGQRS_STOPPED_WORKER_RETENTION}, {@code PGQRS_MAINTENANCE_BATCH_SIZE}.
   * Durations are written like {@code 500ms}, {@code 30s}, {@code 5m}, {@code 7d} or ISO-8601;
   * booleans as {@code true}/{@code false} (also {@code 1}/{@code 0}, {@code yes}/{@code no},
   * {@code on}/{@code off}).
   *
   * @param env the variables
   * @return the configuration
   * @throws ConfigurationException naming the variable that is missing or invalid
   */
  public static PgqrsConfig fromEnvironment(Map<String, String> env) {
    String dsn = env.get("PGQRS_DSN");
    if (dsn == null || dsn.isBlank()) {
      throw new ConfigurationException("PGQRS_DSN", "PGQRS_DSN is not set");
    }
    Builder b;
    try {
      b = builder(dsn);
    } catch (ConfigurationException e) {
      throw new ConfigurationException("PGQRS_DSN", "PGQRS_DSN: " + e.getMessage());
    }
    applyIfSet(env, "PGQRS_SCHEMA", b::schema);
    applyIfSet(env, "PGQRS_POOL_INITIAL_SIZE", v -> b.poolInitialSize(parseInt("PGQRS_POOL_INITIAL_SIZE", v)));
    applyIfSet(env, "PGQRS_POOL_MAX_SIZE", v -> b.poolMaxSize(parseInt("PGQRS_POOL_MAX_SIZE", v)));
    applyIfSet(env, "PGQRS_LEASE_DURATION", v -> b.leaseDuration(DurationText.parse("PGQRS_LEASE_DURATION", v)));
    applyIfSet(env, "PGQRS_POLL_INTERVAL", v -> b.pollInterval(DurationText.parse("PGQRS_POLL_INTERVAL", v)));
    applyIfSet(env, "PGQRS_HEARTBEAT_INTERVAL",
        v -> b.heartbeatInterval(DurationText.parse("PGQRS_HEARTBEAT_INTERVAL", v)));
    applyIfSet(env, "PGQRS_MAX_ATTEMPTS", v -> b.maxAttempts(parseInt("PGQRS_MAX_ATTEMPTS", v)));
    applyIfSet(env, "PGQRS_ARCHIVE_RETENTION",
        v -> b.archiveRetention(DurationText.parse("PGQRS_ARCHIVE_RETENTION", v)));
    applyIfSet(env, "PGQRS_CONNECT_TIMEOUT", v -> b.connectTimeout(DurationText.parse("PGQRS_CONNECT_TIMEOUT", v)));
    applyIfSet(env, "PGQRS_MAINTENANCE_INTERVAL",
        v -> b.maintenanceInterval(DurationText.parse("PGQRS_MAINTENANCE_INTERVAL", v)));
    applyIfSet(env, "PGQRS_WORKER_STALE_AFTER",
        v -> b.workerStaleAfter(DurationText.parse("PGQRS_WORKER_STALE_AFTER", v)));
    applyIfSet(env, "PGQRS_WAKEUPS", v -> b.wakeups(parseBoolean("PGQRS_WAKEUPS", v)));
    applyIfSet(env, "PGQRS_POOLER", v -> b.pooler(parsePooler("PGQRS_POOLER", v)));
    applyIfSet(env, "PGQRS_STATEMENT_TIMEOUT",
        v -> b.statementTimeout(parseTimeout("PGQRS_STATEMENT_TIMEOUT", v)));
    applyIfSet(env, "PGQRS_LOCK_TIMEOUT", v -> b.lockTimeout(parseTimeout("PGQRS_LOCK_TIMEOUT", v)));
    applyIfSet(env, "PGQRS_DEAD_LETTER_RETENTION",
        v -> b.deadLetterRetention(DurationText.parse("PGQRS_DEAD_LETTER_RETENTION", v)));
    applyIfSet(env, "PGQRS_FINISHED_RUN_RETENTION",
        v -> b.finishedRunRetention(DurationText.parse("PGQRS_FINISHED_RUN_RETENTION", v)));
    applyIfSet(env, "PGQRS_STOPPED_WORKER_RETENTION",
        v -> b.stoppedWorkerRetention(DurationText.parse("PGQRS_STOPPED_WORKER_RETENTION", v)));
    applyIfSet(env, "PGQRS_MAINTENANCE_BATCH_SIZE",
        v -> b.maintenanceBatchSize(parseInt("PGQRS_MAINTENANCE_BATCH_SIZE", v)));
    try {
      return b.build();
    } catch (ConfigurationException e) {
      // build() names builder fields; the caller set variables, so name the variable.
      String variable = ENV_BY_FIELD.get(e.field());
      if (variable == null || !env.containsKey(variable) || env.get(variable).isBlank()) {
        variable = "PGQRS_DSN";
      }
      throw new ConfigurationException(variable, variable + ": " + e.getMessage());
    }
  }

  private static final Map<String, String> ENV_BY_FIELD = Map.ofEntries(
      Map.entry("schema", "PGQRS_SCHEMA"),
      Map.entry("poolInitialSize", "PGQRS_POOL_INITIAL_SIZE"),
      Map.entry("poolMaxSize", "PGQRS_POOL_MAX_SIZE"),
      Map.entry("leaseDuration", "PGQRS_LEASE_DURATION"),
      Map.entry("pollInterval", "PGQRS_POLL_INTERVAL"),
      Map.entry("heartbeatInterval", "PGQRS_HEARTBEAT_INTERVAL"),
      Map.entry("maxAttempts", "PGQRS_MAX_ATTEMPTS"),
      Map.entry("archiveRetention", "PGQRS_ARCHIVE_RETENTION"),
      Map.entry("connectTimeout", "PGQRS_CONNECT_TIMEOUT"),
      Map.entry("maintenanceInterval", "PGQRS_MAINTENANCE_INTERVAL"),
      Map.entry("workerStaleAfter", "PGQRS_WORKER_STALE_AFTER"),
      Map.entry("wakeups", "PGQRS_WAKEUPS"),
      Map.entry("pooler", "PGQRS_POOLER"),
      Map.entry("statementTimeout", "PGQRS_STATEMENT_TIMEOUT"),
      Map.entry("lockTimeout", "PGQRS_LOCK_TIMEOUT"),
      Map.entry("deadLetterRetention", "PGQRS_DEAD_LETTER_RETENTION"),
      Map.entry("finishedRunRetention", "PGQRS_FINISHED_RUN_RETENTION"),
      Map.entry("stoppedWorkerRetention", "PGQRS_STOPPED_WORKER_RETENTION"),
      Map.entry("maintenanceBatchSize", "PGQRS_MAINTENANCE_BATCH_SIZE"));

  private static void applyIfSet(Map<String, String> env, String name, Consumer<String> setter) {
    String value = env.get(name);
    if (value != null && !value.isBlank()) {
      try {
        setter.accept(value.trim());
      } catch (ConfigurationException e) {
        throw e.field().equals(name) ? e : new ConfigurationException(name, name + ": " + e.getMessage());
      }
    }
  }

  private static int parseInt(String field, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new ConfigurationException(field, field + ": '" + value + "' is not an integer");
    }
  }

  private static boolean parseBoolean(String field, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new ConfigurationException(field, field + ": '" + value + "' is not a boolean (true or false)");
    };
  }

  /** A timeout: a duration, or a bare {@code 0} for none. */
  private static Duration parseTimeout(String field, String value) {
    return value.trim().equals("0") ? Duration.ZERO : DurationText.parse(field, value);
  }

  private static Pooler parsePooler(String field, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "none", "session" -> Pooler.NONE;
      case "transaction" -> Pooler.TRANSACTION;
      case "statement" -> throw new ConfigurationException(field, field
          + ": a pooler in statement mode cannot run transactions, which pgqrs needs; use transaction mode");
      default -> throw new ConfigurationException(field, field + ": '" + value
          + "' is not a pooler mode (none or transaction)");
    };
  }

  /**
   * A builder preset with this configuration.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The data source name, password included. Prefer {@link #toString()} for logging.
   *
   * @return the DSN
   */
  public String dsn() {
    return dsn;
  }

  /**
   * The backend the DSN selects: {@code postgres}, {@code sqlite} or {@code turso}.
   *
   * @return the backend name
   */
  public String backend() {
    return backend;
  }

  /**
   * The database schema holding pgqrs's tables; default {@value #DEFAULT_SCHEMA}.
   *
   * @return the schema
   */
  public String schema() {
    return schema;
  }

  /**
   * Connections the pool opens eagerly; default {@value #DEFAULT_POOL_INITIAL_SIZE}.
   *
   * @return the initial pool size
   */
  public int poolInitialSize() {
    return poolInitialSize;
  }

  /**
   * The most connections the pool opens; default {@value #DEFAULT_POOL_MAX_SIZE}.
   *
   * @return the largest pool size
   */
  public int poolMaxSize() {
    return poolMaxSize;
  }

  /**
   * The lease (visibility timeout) claims use unless told otherwise; default 30 s.
   *
   * @return the lease length
   */
  public Duration leaseDuration() {
    return leaseDuration;
  }

  /**
   * How often idle consumer streams poll when no wake-up arrives; default 1 s.
   *
   * @return the poll interval
   */
  public Duration pollInterval() {
    return pollInterval;
  }

  /**
   * How often running workers heartbeat; default 10 s.
   *
   * @return the heartbeat interval
   */
  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  /**
   * Max attempts of queues created without their own; default {@value #DEFAULT_MAX_ATTEMPTS}.
   *
   * @return the default max attempts
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * How long archived messages are kept before maintenance purges them; default 7 days.
   *
   * @return the retention
   */
  public Duration archiveRetention() {
    return archiveRetention;
  }

  /**
   * How long opening a connection may take; default 10 s.
   *
   * @return the connect timeout
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * How often each maintenance service of this engine instance takes its turn in the background
   * (see {@link Maintenance}: the lease rescuer, the run reaper, the archive cleaner and the
   * retention cleaner), give or take 20 % of jitter; default 30 s. Zero turns the background
   * services of this instance off; {@link Maintenance#runOnce()} still works. Instances sharing a
   * schema share one schedule per service, so more instances do not mean more turns.
   *
   * @return the interval, zero when off
   */
  public Duration maintenanceInterval() {
    return maintenanceInterval;
  }

  /**
   * Heartbeat age beyond which maintenance stops a ready or suspended worker and releases its
   * leases; default {@value #DEFAULT_STALE_HEARTBEATS} heartbeat intervals.
   *
   * @return the threshold
   */
  public Duration workerStaleAfter() {
    return workerStaleAfter != null ? workerStaleAfter : heartbeatInterval.multipliedBy(DEFAULT_STALE_HEARTBEATS);
  }

  /**
   * Whether the engine listens for wake-ups ({@code LISTEN/NOTIFY} on PostgreSQL) besides
   * polling; default true, and false behind a transaction-mode pooler ({@link #pooler()}). Off,
   * nothing listens: consumer streams find work by polling every {@link #pollInterval()}, and
   * {@code result()} of workflow runs looks its runs up at the same interval.
   *
   * @return whether wake-ups are used
   */
  public boolean wakeups() {
    return wakeups != null ? wakeups : pooler != Pooler.TRANSACTION;
  }

  /**
   * The pooler between the engine and PostgreSQL; default {@link Pooler#NONE}. DSN parameter
   * {@code pooler=transaction} for PgBouncer in transaction mode.
   *
   * @return the pooler mode
   */
  public Pooler pooler() {
    return pooler;
  }

  /**
   * The longest a statement of the engine may run on PostgreSQL before the server cancels it
   * (a transient {@link StoreUnavailableException}); default 60 s, zero sets none (the server's
   * or role's setting applies). DSN parameter {@code statement_timeout}.
   *
   * @return the statement timeout, zero when pgqrs sets none
   */
  public Duration statementTimeout() {
    return statementTimeout;
  }

  /**
   * The longest a statement of the engine waits for a lock on PostgreSQL, for example behind
   * another session's {@code LOCK TABLE}, before it fails with a transient
   * {@link StoreUnavailableException}; default 10 s, zero sets none. DSN parameter
   * {@code lock_timeout}.
   *
   * @return the lock timeout, zero when pgqrs sets none
   */
  public Duration lockTimeout() {
    return lockTimeout;
  }

  // ---------------------------------------------------------------- time sources

  /**
   * The clock the engine reads when it needs the JVM's time, which is only to pace in-memory
   * limits (a producer's rate limit); default {@link Clock#systemUTC()}. It never dates anything
   * in the store: every lease, visibility, retry, sleep, signal timeout and deadline is computed
   * by the store's own clock from relative durations, so JVM clock skew between instances cannot
   * shift them, unless a {@link #storeClock()} is set. A settable clock lets tests move rate
   * limits on without sleeping. Not read from the environment.
   *
   * @return the clock
   */
  public Clock clock() {
    return clock != null ? clock : Clock.systemUTC();
  }

  /**
   * The clock the store runs on instead of its database's, or null (the default) for the
   * database's own clock ({@code now()} on PostgreSQL, {@code unixepoch('subsec')} on SQLite).
   * When set, every store operation the engine makes is given this clock's time as its "now"
   * (the store SPI's per-operation override): leases, visibility, delays, retries, sleeps, signal
   * timeouts, deadlines, worker heartbeats, retention and schedule ticks all follow it, so a test
   * can move a store's time forward without waiting ({@code pgqrs-test-kit}'s {@code TestClock}
   * is one). The engine's own timers (polls, heartbeats, keep-alives, handler timeouts) still run
   * on real time.
   *
   * <p>For tests and simulations only: every engine sharing the database must use the same
   * clock, since a lease one engine takes by this clock is judged by the other's. Time read from it
   * must not go back, or a lease that expired could come alive again. Not read from the
   * environment.
   *
   * @return the store's clock, or null for the database's
   */
  public @Nullable Clock storeClock() {
    return storeClock;
  }

  /**
   * The Reactor scheduler of the engine's own timers: consumer polls and idle timers, worker
   * heartbeats, lease keep-alives, handler and shutdown timeouts, background maintenance, step
   * lease keep-alives, run deadlines and {@code result()} polling. Default
   * {@link Schedulers#parallel()}, looked up when a timer starts (for the maintenance loop, when the
   * store connects), so a scheduler installed by {@code VirtualTimeScheduler.getOrSet()} is honoured
   * too. A
   * {@code reactor.test.scheduler.VirtualTimeScheduler} given here lets tests advance the engine's
   * timers with {@code advanceTimeBy} instead of sleeping. Handlers and store calls do not run on
   * it. Not read from the environment.
   *
   * @return the scheduler
   */
  public Scheduler scheduler() {
    return scheduler != null ? scheduler : Schedulers.parallel();
  }

  /**
   * How long dead-lettered messages are kept before the retention cleaner purges them; default
   * 14 days. Replay them (or copy what you need) within that time.
   *
   * @return the retention
   */
  public Duration deadLetterRetention() {
    return deadLetterRetention;
  }

  /**
   * How long finished workflow runs (SUCCESS, ERROR or CANCELLED) are kept, with their steps and
   * signals, before the retention cleaner purges them; default 7 days. A purged run can no longer
   * be read, and its idempotency key may start a new run. Runs that have not finished are never
   * purged.
   *
   * @return the retention
   */
  public Duration finishedRunRetention() {
    return finishedRunRetention;
  }

  /**
   * How long stopped workers are kept before the retention cleaner purges them; default 1 day.
   * A stopped worker that some live message still names as its lease holder is kept.
   *
   * @return the retention
   */
  public Duration stoppedWorkerRetention() {
    return stoppedWorkerRetention;
  }

  /**
   * The most rows one batch of a maintenance service touches, each batch a short transaction of
   * its own; default {@value #DEFAULT_MAINTENANCE_BATCH_SIZE}. A service runs batches until one
   * comes back short, so this bounds how long a batch holds locks (on SQLite, the writer), not
   * how much a turn does.
   *
   * @return the batch limit
   */
  public int maintenanceBatchSize() {
    return maintenanceBatchSize;
  }

  /**
   * The DSN's query parameters other than those this class consumes, for the backend's driver.
   *
   * @return the remaining parameters, in DSN order
   */
  public Map<String, String> dsnParameters() {
    Map<String, String> params = new LinkedHashMap<>(Builder.queryParameters(dsn));
    params.keySet().removeAll(Builder.CONSUMED_PARAMETERS);
    return params;
  }

  @Override
  public String toString() {
    return "PgqrsConfig{dsn=" + Dsns.mask(dsn) + ", schema=" + schema + ", poolInitialSize=" + poolInitialSize
        + ", poolMaxSize=" + poolMaxSize + ", leaseDuration=" + leaseDuration + ", pollInterval=" + pollInterval
        + ", heartbeatInterval=" + heartbeatInterval + ", maxAttempts=" + maxAttempts + ", archiveRetention="
        + archiveRetention + ", connectTimeout=" + connectTimeout + ", maintenanceInterval=" + maintenanceInterval
        + ", workerStaleAfter=" + workerStaleAfter() + ", wakeups=" + wakeups() + ", pooler=" + pooler
        + ", statementTimeout=" + statementTimeout + ", lockTimeout=" + lockTimeout
        + ", deadLetterRetention=" + deadLetterRetention + ", finishedRunRetention=" + finishedRunRetention
        + ", stoppedWorkerRetention=" + stoppedWorkerRetention + ", maintenanceBatchSize=" + maintenanceBatchSize
        + (clock != null ? ", clock=custom" : "") + (storeClock != null ? ", storeClock=custom" : "")
        + (scheduler != null ? ", scheduler=custom" : "") + '}';
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof PgqrsConfig c && dsn.equals(c.dsn) && schema.equals(c.schema)
        && poolInitialSize == c.poolInitialSize && poolMaxSize == c.poolMaxSize
        && leaseDuration.equals(c.leaseDuration) && pollInterval.equals(c.pollInterval)
        && heartbeatInterval.equals(c.heartbeatInterval) && maxAttempts == c.maxAttempts
        && archiveRetention.equals(c.archiveRetention) && connectTimeout.equals(c.connectTimeout)
        && maintenanceInterval.equals(c.maintenanceInterval) && Objects.equals(workerStaleAfter, c.workerStaleAfter)
        && Objects.equals(wakeups, c.wakeups) && pooler == c.pooler
        && statementTimeout.equals(c.statementTimeout) && lockTimeout.equals(c.lockTimeout)
        && deadLetterRetention.equals(c.deadLetterRetention) && finishedRunRetention.equals(c.finishedRunRetention)
        && stoppedWorkerRetention.equals(c.stoppedWorkerRetention) && maintenanceBatchSize == c.maintenanceBatchSize
        && Objects.equals(clock, c.clock) && Objects.equals(storeClock, c.storeClock)
        && Objects.equals(scheduler, c.scheduler);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dsn, schema, poolInitialSize, poolMaxSize, leaseDuration, pollInterval,
        heartbeatInterval, maxAttempts, archiveRetention, connectTimeout, maintenanceInterval, workerStaleAfter,
        wakeups, pooler, statementTimeout, lockTimeout, deadLetterRetention, finishedRunRetention,
        stoppedWorkerRetention, maintenanceBatchSize, clock, storeClock, scheduler);
  }

  /** Builds a {@link PgqrsConfig}; checks every value in {@link #build()}. Not thread-safe. */
  public static final class Builder {

    static final java.util.Set<String> CONSUMED_PARAMETERS =
        java.util.Set.of("schema", "pool_initial_size", "pool_max_size", "wakeups", "pooler", "statement_timeout",
            "lock_timeout");

    private final String dsn;
    private final String backend;
    private String schema = DEFAULT_SCHEMA;
    private int poolInitialSize = DEFAULT_POOL_INITIAL_SIZE;
    private int poolMaxSize = DEFAULT_POOL_MAX_SIZE;
    private Duration leaseDuration = DEFAULT_LEASE;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration archiveRetention = DEFAULT_ARCHIVE_RETENTION;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration maintenanceInterval = DEFAULT_MAINTENANCE_INTERVAL;
    private @Nullable Duration workerStaleAfter;
    private @Nullable Boolean wakeups;
    private Pooler pooler = Pooler.NONE;
    private Duration statementTimeout = DEFAULT_STATEMENT_TIMEOUT;
    private Duration lockTimeout = DEFAULT_LOCK_TIMEOUT;
    private @Nullable Clock clock;
    private @Nullable Clock storeClock;
    private @Nullable Scheduler scheduler;
    private Duration deadLetterRetention = DEFAULT_DEAD_LETTER_RETENTION;
    private Duration finishedRunRetention = DEFAULT_FINISHED_RUN_RETENTION;
    private Duration stoppedWorkerRetention = DEFAULT_STOPPED_WORKER_RETENTION;
    private int maintenanceBatchSize = DEFAULT_MAINTENANCE_BATCH_SIZE;

    private Builder(String dsn) {
      if (dsn == null || dsn.isBlank()) {
        throw new ConfigurationException("dsn", "dsn must not be empty");
      }
      this.dsn = dsn.trim();
      this.backend = backendOf(this.dsn);
      Map<String, String> params = queryParameters(this.dsn);
      if (params.containsKey("schema")) {
        this.schema = params.get("schema");
      }
      if (params.containsKey("pool_initial_size")) {
        this.poolInitialSize = parseInt("dsn", params.get("pool_initial_size"));
      }
      if (params.containsKey("pool_max_size")) {
        this.poolMaxSize = parseInt("dsn", params.get("pool_max_size"));
      }
      if (params.containsKey("wakeups")) {
        this.wakeups = parseBoolean("dsn", params.get("wakeups"));
      }
      if (params.containsKey("pooler")) {
        this.pooler = parsePooler("dsn", params.get("pooler"));
      }
      if (params.containsKey("statement_timeout")) {
        this.statementTimeout = parseTimeout("dsn", params.get("statement_timeout"));
      }
      if (params.containsKey("lock_timeout")) {
        this.lockTimeout = parseTimeout("dsn", params.get("lock_timeout"));
      }
    }

    private Builder(PgqrsConfig c) {
      this.dsn = c.dsn;
      this.backend = c.backend;
      this.schema = c.schema;
      this.poolInitialSize = c.poolInitialSize;
      this.poolMaxSize = c.poolMaxSize;
      this.leaseDuration = c.leaseDuration;
      this.pollInterval = c.pollInterval;
      this.heartbeatInterval = c.heartbeatInterval;
      this.maxAttempts = c.maxAttempts;
      this.archiveRetention = c.archiveRetention;
      this.connectTimeout = c.connectTimeout;
      this.maintenanceInterval = c.maintenanceInterval;
      this.workerStaleAfter = c.workerStaleAfter;
      this.wakeups = c.wakeups;
      this.pooler = c.pooler;
      this.statementTimeout = c.statementTimeout;
      this.lockTimeout = c.lockTimeout;
      this.clock = c.clock;
      this.storeClock = c.storeClock;
      this.scheduler = c.scheduler;
      this.deadLetterRetention = c.deadLetterRetention;
      this.finishedRunRetention = c.finishedRunRetention;
      this.stoppedWorkerRetention = c.stoppedWorkerRetention;
      this.maintenanceBatchSize = c.maintenanceBatchSize;
    }

    private static String backendOf(String dsn) {
      String lower = dsn.toLowerCase(Locale.ROOT);
      if (lower.startsWith("postgresql://") || lower.startsWith("postgres://")) {
        checkPostgresDsn(dsn);
        return "postgres";
      }
      if (lower.startsWith("sqlite:")) {
        return "sqlite";
      }
      if (lower.startsWith("turso:") || lower.startsWith("libsql:")
          || lower.startsWith("http://") || lower.startsWith("https://")) {
        return "turso";
      }
      throw new ConfigurationException(
          "dsn", "unsupported dsn '" + Dsns.mask(dsn)
              + "': expected postgresql://, postgres://, sqlite:, turso:, libsql:, http:// or https://");
    }

    private static void checkPostgresDsn(String dsn) {
      // First: a password that splits the URL would otherwise reach messages below as a path or a query.
      Dsns.checkCredentialsEncoded(dsn);
      URI uri = Dsns.parse(dsn);
      try {
        Dsns.hostPort(uri);
      } catch (ConfigurationException e) {
        throw new ConfigurationException("dsn", "invalid dsn '" + Dsns.mask(dsn) + "': " + e.getMessage());
      }
      String path = uri.getPath();
      if (path == null || path.length() <= 1 || path.indexOf('/', 1) >= 0) {
        throw new ConfigurationException(
            "dsn", "dsn '" + Dsns.mask(dsn) + "' must name exactly one database, as in postgresql://host/db");
      }
    }

    static Map<String, String> queryParameters(String dsn) {
      Map<String, String> params = new LinkedHashMap<>();
      int q = dsn.indexOf('?');
      if (q < 0) {
        return params;
      }
      for (String pair : dsn.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new ConfigurationException("dsn", "malformed dsn query parameter '" + Dsns.mask(pair) + "'");
        }
        try {
          params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          throw new ConfigurationException("dsn", "malformed dsn query parameter '" + Dsns.mask(pair) + "'");
        }
      }
      return params;
    }

    /**
     * Sets the schema; default {@value PgqrsConfig#DEFAULT_SCHEMA}.
     *
     * @param value 1 to 63 letters, digits or underscores, not starting with a digit
     * @return this builder
     */
    public Builder schema(String value) {
      this.schema = value;
      return this;
    }

    /**
     * Sets how many connections the pool opens eagerly.
     *
     * @param value at least 0, at most the max size
     * @return this builder
     */
    public Builder poolInitialSize(int value) {
      this.poolInitialSize = value;
      return this;
    }

    /**
     * Sets the largest pool size.
     *
     * @param value at least 1
     * @return this builder
     */
    public Builder poolMaxSize(int value) {
      this.poolMaxSize = value;
      return this;
    }

    /**
     * Sets the default lease length of claims.
     *
     * @param value above zero
     * @return this builder
     */
    public Builder leaseDuration(Duration value) {
      this.leaseDuration = value;
      return this;
    }

    /**
     * Sets the poll interval of consumer streams.
     *
     * @param value above zero
     * @return this builder
     */
    public Builder pollInterval(Duration value) {
      this.pollInterval = value;
      return this;
    }

    /**
     * Sets the heartbeat interval of running workers.
     *
     * @param value above zero
     * @return this builder
     */
    public Builder heartbeatInterval(Duration value) {
      this.heartbeatInterval = value;
      return this;
    }

    /**
     * Sets the max attempts of queues created without their own.
     *
     * @param value at least 1
     * @return this builder
     */
    public Builder maxAttempts(int value) {
      this.maxAttempts = value;
      return this;
    }

    /**
     * Sets how long archived messages are kept.
     *
     * @param value zero or more (zero keeps nothing once maintenance runs)
     * @return this builder
     */
    public Builder archiveRetention(Duration value) {
      this.archiveRetention = value;
      return this;
    }

    /**
     * Sets how long opening a connection may take.
     *
     * @param value above zero
     * @return this builder
     */
    public Builder connectTimeout(Duration value) {
      this.connectTimeout = value;
      return this;
    }

    /**
     * Sets how often each maintenance service of this instance takes its turn in the background.
     *
     * @param value zero or more (zero turns the background services off)
     * @return this builder
     */
    public Builder maintenanceInterval(Duration value) {
      this.maintenanceInterval = value;
      return this;
    }

    /**
     * Sets the heartbeat age beyond which maintenance reclaims a worker.
     *
     * @param value longer than the heartbeat interval, or null for
     *     {@value PgqrsConfig#DEFAULT_STALE_HEARTBEATS} heartbeat intervals
     * @return this builder
     */
    public Builder workerStaleAfter(@Nullable Duration value) {
      this.workerStaleAfter = value;
      return this;
    }

    /**
     * Sets whether the engine listens for wake-ups besides polling; unset, it does unless the
     * pooler is {@link Pooler#TRANSACTION}.
     *
     * @param value false for poll-only streams and results; true is refused behind a transaction
     *     pooler
     * @return this builder
     */
    public Builder wakeups(boolean value) {
      this.wakeups = value;
      return this;
    }

    /**
     * Sets the pooler between the engine and PostgreSQL; default {@link Pooler#NONE}.
     *
     * @param value {@link Pooler#TRANSACTION} behind PgBouncer in transaction mode
     * @return this builder
     */
    public Builder pooler(Pooler value) {
      this.pooler = value;
      return this;
    }

    /**
     * Sets the statement timeout of the engine's PostgreSQL connections; default 60 s.
     *
     * @param value zero or more (zero: pgqrs sets none)
     * @return this builder
     */
    public Builder statementTimeout(Duration value) {
      this.statementTimeout = value;
      return this;
    }

    /**
     * Sets the lock timeout of the engine's PostgreSQL statements; default 10 s.
     *
     * @param value zero or more (zero: pgqrs sets none)
     * @return this builder
     */
    public Builder lockTimeout(Duration value) {
      this.lockTimeout = value;
      return this;
    }

    /**
     * Sets the clock the engine reads for in-memory pacing (see {@link PgqrsConfig#clock()}); the
     * store's times never come from it (see {@link #storeClock(Clock)} for that).
     *
     * @param value the clock, or null for the default {@link Clock#systemUTC()}
     * @return this builder
     */
    public Builder clock(@Nullable Clock value) {
      this.clock = value;
      return this;
    }

    /**
     * Runs the store on a clock instead of its database's (see {@link PgqrsConfig#storeClock()}):
     * for tests and simulations, never in production.
     *
     * @param value the clock, or null (the default) for the database's clock
     * @return this builder
     */
    public Builder storeClock(@Nullable Clock value) {
      this.storeClock = value;
      return this;
    }

    /**
     * Sets how long dead-lettered messages are kept; default 14 days.
     *
     * @param value zero or more (zero keeps nothing once maintenance runs)
     * @return this builder
     */
    public Builder deadLetterRetention(Duration value) {
      this.deadLetterRetention = value;
      return this;
    }

    /**
     * Sets the scheduler of the engine's own timers (see {@link PgqrsConfig#scheduler()}), for
     * example a {@code VirtualTimeScheduler} in tests.
     *
     * @param value the scheduler, or null for the default {@link Schedulers#parallel()}
     * @return this builder
     */
    public Builder scheduler(@Nullable Scheduler value) {
      this.scheduler = value;
      return this;
    }

    /**
     * Sets how long finished workflow runs are kept, with their steps and signals; default 7 days.
     *
     * @param value zero or more (zero keeps nothing once maintenance runs)
     * @return this builder
     */
    public Builder finishedRunRetention(Duration value) {
      this.finishedRunRetention = value;
      return this;
    }

    /**
     * Sets how long stopped workers are kept; default 1 day.
     *
     * @param value zero or more (zero keeps nothing once maintenance runs)
     * @return this builder
     */
    public Builder stoppedWorkerRetention(Duration value) {
      this.stoppedWorkerRetention = value;
      return this;
    }

    /**
     * Sets the most rows one batch of a maintenance service touches; default
     * {@value PgqrsConfig#DEFAULT_MAINTENANCE_BATCH_SIZE}.
     *
     * @param value 1 to {@value PgqrsConfig#MAX_MAINTENANCE_BATCH_SIZE}
     * @return this builder
     */
    public Builder maintenanceBatchSize(int value) {
      this.maintenanceBatchSize = value;
      return this;
    }

    /**
     * Checks every value and builds the configuration.
     *
     * @return the configuration
     * @throws ConfigurationException naming the first invalid field
     */
    public PgqrsConfig build() {
      Names.checkSchema(schema);
      checkNotSystemSchema(schema);
      if (pooler == null) {
        throw new ConfigurationException("pooler", "pooler must not be null (use Pooler.NONE)");
      }
      if (pooler == Pooler.TRANSACTION && Boolean.TRUE.equals(wakeups)) {
        throw new ConfigurationException("wakeups", "wakeups need a LISTEN connection, which a transaction-mode"
            + " pooler cannot keep: leave wakeups unset (or false) with pooler=transaction");
      }
      timeout("statementTimeout", statementTimeout);
      timeout("lockTimeout", lockTimeout);
      if (poolMaxSize < 1) {
        throw new ConfigurationException("poolMaxSize", "poolMaxSize must be at least 1, got " + poolMaxSize);
      }
      if (poolInitialSize < 0 || poolInitialSize > poolMaxSize) {
        throw new ConfigurationException("poolInitialSize",
            "poolInitialSize must be between 0 and poolMaxSize (" + poolMaxSize + "), got " + poolInitialSize);
      }
      positive("leaseDuration", leaseDuration);
      positive("pollInterval", pollInterval);
      positive("heartbeatInterval", heartbeatInterval);
      positive("connectTimeout", connectTimeout);
      if (archiveRetention == null || archiveRetention.isNegative()) {
        throw new ConfigurationException("archiveRetention", "archiveRetention must not be negative");
      }
      if (maxAttempts < 1) {
        throw new ConfigurationException("maxAttempts", "maxAttempts must be at least 1, got " + maxAttempts);
      }
      if (maintenanceInterval == null || maintenanceInterval.isNegative()) {
        throw new ConfigurationException("maintenanceInterval",
            "maintenanceInterval must not be negative (zero turns background maintenance off), got " + maintenanceInterval);
      }
      notNegative("deadLetterRetention", deadLetterRetention);
      notNegative("finishedRunRetention", finishedRunRetention);
      notNegative("stoppedWorkerRetention", stoppedWorkerRetention);
      if (maintenanceBatchSize < 1 || maintenanceBatchSize > MAX_MAINTENANCE_BATCH_SIZE) {
        throw new ConfigurationException("maintenanceBatchSize", "maintenanceBatchSize must be between 1 and "
            + MAX_MAINTENANCE_BATCH_SIZE + ", got " + maintenanceBatchSize);
      }
      if (workerStaleAfter != null) {
        positive("workerStaleAfter", workerStaleAfter);
        // A threshold a healthy worker can reach between two heartbeats would reclaim live workers.
        if (workerStaleAfter.compareTo(heartbeatInterval) <= 0) {
          throw new ConfigurationException("workerStaleAfter",
              "workerStaleAfter must be longer than heartbeatInterval (" + heartbeatInterval + "), got "
                  + workerStaleAfter);
        }
      }
      return new PgqrsConfig(this);
    }

    /**
     * PostgreSQL's own schemas (and SQL's information_schema) hold the catalog: pgqrs's tables do
     * not belong there, and uninstall must never drop anything in them. {@code public} is a user
     * schema and stays allowed.
     */
    private static void checkNotSystemSchema(String schema) {
      String lower = schema.toLowerCase(Locale.ROOT);
      if (lower.equals("information_schema") || lower.startsWith("pg_")) {
        throw new ConfigurationException("schema", "schema '" + schema
            + "' is a system schema (information_schema and pg_* belong to PostgreSQL): use a schema of your own");
      }
    }

    /** PostgreSQL keeps its timeouts as an int of milliseconds. */
    private static void timeout(String field, @Nullable Duration value) {
      notNegative(field, value);
      if (value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
        throw new ConfigurationException(field, field + " must be at most " + Duration.ofMillis(Integer.MAX_VALUE)
            + " (zero sets none), got " + value);
      }
    }

    private static void notNegative(String field, @Nullable Duration value) {
      if (value == null || value.isNegative()) {
        throw new ConfigurationException(field, field + " must not be negative, got " + value);
      }
    }

    private static void positive(String field, @Nullable Duration value) {
      if (value == null || value.isZero() || value.isNegative()) {
        throw new ConfigurationException(field, field + " must be above zero, got " + value);
      }
    }
  }
}
