package io.pgqrs.spring;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * The {@code pgqrs.*} configuration properties of the starter, mapped onto
 * {@link PgqrsConfig#builder(String)} by {@link #toConfig()}.
 *
 * <p>Options that a DSN can also carry ({@code schema}, the pool sizes, {@code wakeups} and the
 * timeouts) are unset by default, so that the DSN's parameters and then the engine's defaults
 * apply; a property that is set wins over the DSN. Durations bind from {@code 500ms}, {@code 30s},
 * {@code 5m} or ISO-8601. Every invalid value fails start-up with an
 * {@link InvalidConfigurationPropertyValueException} that names the property, for example
 * {@code pgqrs.dsn} or {@code pgqrs.lease}; a DSN's password never appears in it.
 */
@ConfigurationProperties("pgqrs")
public class PgqrsProperties {

  /** The engine's field names, as {@link ConfigurationException#field()} reports them. */
  private static final Map<String, String> PROPERTY_OF_FIELD = Map.ofEntries(
      Map.entry("dsn", "pgqrs.dsn"),
      Map.entry("schema", "pgqrs.schema"),
      Map.entry("poolInitialSize", "pgqrs.pool.initial-size"),
      Map.entry("poolMaxSize", "pgqrs.pool.max-size"),
      Map.entry("leaseDuration", "pgqrs.lease"),
      Map.entry("pollInterval", "pgqrs.poll-interval"),
      Map.entry("heartbeatInterval", "pgqrs.heartbeat-interval"),
      Map.entry("maintenanceInterval", "pgqrs.maintenance-interval"),
      Map.entry("maxAttempts", "pgqrs.max-attempts"),
      Map.entry("connectTimeout", "pgqrs.connect-timeout"),
      Map.entry("wakeups", "pgqrs.wakeups"),
      Map.entry("statementTimeout", "pgqrs.statement-timeout"),
      Map.entry("lockTimeout", "pgqrs.lock-timeout"),
      Map.entry("workerStaleAfter", "pgqrs.worker-stale-after"));

  /**
   * The database: postgresql://user:password@host:5432/db?schema=jobs,
   * postgres://..., sqlite:path/to/file.db or sqlite::memory: (SQLite needs
   * the engine-reactive-sqlite-adapter module on the class path). Required.
   */
  private @Nullable String dsn;

  /** The schema of pgqrs's tables. Unset: the DSN's schema parameter, else public. */
  private @Nullable String schema;

  /** The connection pool (PostgreSQL). */
  private final Pool pool = new Pool();

  /** The lease (visibility timeout) of claims, extended while a handler runs. */
  private Duration lease = Duration.ofSeconds(30);

  /** How often an idle consumer claims even without a wake-up. */
  private Duration pollInterval = Duration.ofSeconds(1);

  /** How often running workers heartbeat. */
  private Duration heartbeatInterval = Duration.ofSeconds(10);

  /** How often each background maintenance service of this instance runs; 0 turns them off. */
  private Duration maintenanceInterval = Duration.ofSeconds(30);

  /** Deliveries after which a message of a queue created without its own limit is dead-lettered. */
  private int maxAttempts = 5;

  /** How long opening a connection may take. */
  private Duration connectTimeout = Duration.ofSeconds(10);

  /**
   * Heartbeat age after which maintenance reclaims a worker, and after which the health indicator
   * reports it stale. Unset: three heartbeat intervals.
   */
  private @Nullable Duration workerStaleAfter;

  /**
   * Whether consumers and results wake on notifications besides polling. Unset: the DSN's
   * wakeups parameter, else true (false behind pooler=transaction).
   */
  private @Nullable Boolean wakeups;

  /** Statement timeout of the engine's PostgreSQL statements; 0 sets none. Unset: the DSN's, else 60s. */
  private @Nullable Duration statementTimeout;

  /** Lock timeout of the engine's PostgreSQL statements; 0 sets none. Unset: the DSN's, else 10s. */
  private @Nullable Duration lockTimeout;

  /** Whether to install (or migrate) the schema when the application starts. Idempotent. */
  private boolean installOnStartup = false;

  /**
   * Whether a queue named by a @PgqrsHandler that does not exist is created at start-up;
   * when false, start-up fails naming the method and the queue.
   */
  private boolean createQueues = false;

  /** Defaults of the consumers started for @PgqrsHandler methods. */
  private final Consumer consumer = new Consumer();

  /** Defaults of the workers started for @WorkflowMethod beans. */
  private final Workflow workflow = new Workflow();

  /** Creates the properties with their defaults. */
  public PgqrsProperties() {}

  /**
   * Builds the engine configuration from these properties.
   *
   * @return the configuration, checked by {@link PgqrsConfig.Builder#build()}
   * @throws InvalidConfigurationPropertyValueException naming the {@code pgqrs.*} property that is
   *     missing or invalid, with the engine's reason
   */
  public PgqrsConfig toConfig() {
    String value = dsn;
    if (value == null || value.isBlank()) {
      throw new InvalidConfigurationPropertyValueException("pgqrs.dsn", value,
          "pgqrs.dsn is required: set it to postgresql://user:password@host:5432/db?schema=jobs or sqlite:path/to/file.db");
    }
    try {
      PgqrsConfig.Builder builder = PgqrsConfig.builder(value)
          .leaseDuration(lease)
          .pollInterval(pollInterval)
          .heartbeatInterval(heartbeatInterval)
          .maintenanceInterval(maintenanceInterval)
          .maxAttempts(maxAttempts)
          .connectTimeout(connectTimeout)
          .workerStaleAfter(workerStaleAfter);
      if (schema != null) {
        builder.schema(schema);
      }
      if (pool.initialSize != null) {
        builder.poolInitialSize(pool.initialSize);
      }
      if (pool.maxSize != null) {
        builder.poolMaxSize(pool.maxSize);
      }
      if (wakeups != null) {
        builder.wakeups(wakeups);
      }
      if (statementTimeout != null) {
        builder.statementTimeout(statementTimeout);
      }
      if (lockTimeout != null) {
        builder.lockTimeout(lockTimeout);
      }
      return builder.build();
    } catch (ConfigurationException e) {
      String property = PROPERTY_OF_FIELD.getOrDefault(e.field(), "pgqrs.dsn");
      throw new InvalidConfigurationPropertyValueException(property, valueOf(property), e.getMessage());
    }
  }

  /** The bound value of a property, for the error; a DSN with its password masked. */
  private @Nullable Object valueOf(String property) {
    return switch (property) {
      // The engine's own masking: the password, and password= / auth_token= parameters.
      case "pgqrs.dsn" -> dsn == null ? null : io.pgqrs.internal.Dsns.mask(dsn);
      case "pgqrs.schema" -> schema;
      case "pgqrs.pool.initial-size" -> pool.initialSize;
      case "pgqrs.pool.max-size" -> pool.maxSize;
      case "pgqrs.lease" -> lease;
      case "pgqrs.poll-interval" -> pollInterval;
      case "pgqrs.heartbeat-interval" -> heartbeatInterval;
      case "pgqrs.maintenance-interval" -> maintenanceInterval;
      case "pgqrs.max-attempts" -> maxAttempts;
      case "pgqrs.connect-timeout" -> connectTimeout;
      case "pgqrs.wakeups" -> wakeups;
      case "pgqrs.statement-timeout" -> statementTimeout;
      case "pgqrs.lock-timeout" -> lockTimeout;
      case "pgqrs.worker-stale-after" -> workerStaleAfter;
      default -> null;
    };
  }

  /**
   * The DSN.
   *
   * @return the DSN, or null when unset
   */
  public @Nullable String getDsn() {
    return dsn;
  }

  /**
   * Sets the DSN.
   *
   * @param dsn the DSN
   */
  public void setDsn(@Nullable String dsn) {
    this.dsn = dsn;
  }

  /**
   * The schema.
   *
   * @return the schema, or null for the DSN's or the default
   */
  public @Nullable String getSchema() {
    return schema;
  }

  /**
   * Sets the schema.
   *
   * @param schema the schema, or null for the DSN's or the default
   */
  public void setSchema(@Nullable String schema) {
    this.schema = schema;
  }

  /**
   * The pool settings.
   *
   * @return the pool settings
   */
  public Pool getPool() {
    return pool;
  }

  /**
   * The lease of claims.
   *
   * @return the lease
   */
  public Duration getLease() {
    return lease;
  }

  /**
   * Sets the lease of claims.
   *
   * @param lease above zero
   */
  public void setLease(Duration lease) {
    this.lease = lease;
  }

  /**
   * The poll interval.
   *
   * @return the poll interval
   */
  public Duration getPollInterval() {
    return pollInterval;
  }

  /**
   * Sets the poll interval.
   *
   * @param pollInterval above zero
   */
  public void setPollInterval(Duration pollInterval) {
    this.pollInterval = pollInterval;
  }

  /**
   * The heartbeat interval.
   *
   * @return the heartbeat interval
   */
  public Duration getHeartbeatInterval() {
    return heartbeatInterval;
  }

  /**
   * Sets the heartbeat interval.
   *
   * @param heartbeatInterval above zero
   */
  public void setHeartbeatInterval(Duration heartbeatInterval) {
    this.heartbeatInterval = heartbeatInterval;
  }

  /**
   * The maintenance interval.
   *
   * @return the maintenance interval
   */
  public Duration getMaintenanceInterval() {
    return maintenanceInterval;
  }

  /**
   * Sets the maintenance interval.
   *
   * @param maintenanceInterval zero or more (zero turns background maintenance off)
   */
  public void setMaintenanceInterval(Duration maintenanceInterval) {
    this.maintenanceInterval = maintenanceInterval;
  }

  /**
   * The max attempts of new queues.
   *
   * @return the max attempts
   */
  public int getMaxAttempts() {
    return maxAttempts;
  }

  /**
   * Sets the max attempts of new queues.
   *
   * @param maxAttempts at least 1
   */
  public void setMaxAttempts(int maxAttempts) {
    this.maxAttempts = maxAttempts;
  }

  /**
   * The connect timeout.
   *
   * @return the connect timeout
   */
  public Duration getConnectTimeout() {
    return connectTimeout;
  }

  /**
   * Sets the connect timeout.
   *
   * @param connectTimeout above zero
   */
  public void setConnectTimeout(Duration connectTimeout) {
    this.connectTimeout = connectTimeout;
  }

  /**
   * The heartbeat age after which a worker is stale.
   *
   * @return the age, or null for three heartbeat intervals
   */
  public @Nullable Duration getWorkerStaleAfter() {
    return workerStaleAfter;
  }

  /**
   * Sets the heartbeat age after which a worker is stale.
   *
   * @param workerStaleAfter longer than the heartbeat interval, or null
   */
  public void setWorkerStaleAfter(@Nullable Duration workerStaleAfter) {
    this.workerStaleAfter = workerStaleAfter;
  }

  /**
   * Whether wake-ups are on.
   *
   * @return the setting, or null for the DSN's or the default
   */
  public @Nullable Boolean getWakeups() {
    return wakeups;
  }

  /**
   * Turns wake-ups on or off.
   *
   * @param wakeups the setting, or null for the DSN's or the default
   */
  public void setWakeups(@Nullable Boolean wakeups) {
    this.wakeups = wakeups;
  }

  /**
   * The statement timeout.
   *
   * @return the timeout, or null for the DSN's or the default
   */
  public @Nullable Duration getStatementTimeout() {
    return statementTimeout;
  }

  /**
   * Sets the statement timeout.
   *
   * @param statementTimeout zero or more, or null for the DSN's or the default
   */
  public void setStatementTimeout(@Nullable Duration statementTimeout) {
    this.statementTimeout = statementTimeout;
  }

  /**
   * The lock timeout.
   *
   * @return the timeout, or null for the DSN's or the default
   */
  public @Nullable Duration getLockTimeout() {
    return lockTimeout;
  }

  /**
   * Sets the lock timeout.
   *
   * @param lockTimeout zero or more, or null for the DSN's or the default
   */
  public void setLockTimeout(@Nullable Duration lockTimeout) {
    this.lockTimeout = lockTimeout;
  }

  /**
   * Whether the schema is installed at start-up.
   *
   * @return true to install
   */
  public boolean isInstallOnStartup() {
    return installOnStartup;
  }

  /**
   * Sets whether the schema is installed at start-up.
   *
   * @param installOnStartup true to install
   */
  public void setInstallOnStartup(boolean installOnStartup) {
    this.installOnStartup = installOnStartup;
  }

  /**
   * Whether missing handler queues are created at start-up.
   *
   * @return true to create them
   */
  public boolean isCreateQueues() {
    return createQueues;
  }

  /**
   * Sets whether missing handler queues are created at start-up.
   *
   * @param createQueues true to create them, false to fail start-up
   */
  public void setCreateQueues(boolean createQueues) {
    this.createQueues = createQueues;
  }

  /**
   * The consumer defaults.
   *
   * @return the consumer defaults
   */
  public Consumer getConsumer() {
    return consumer;
  }

  /**
   * The workflow worker defaults.
   *
   * @return the workflow worker defaults
   */
  public Workflow getWorkflow() {
    return workflow;
  }

  /** The connection pool of a PostgreSQL store. */
  public static class Pool {

    /** Connections opened eagerly. Unset: the DSN's pool_initial_size, else 1. */
    private @Nullable Integer initialSize;

    /** The largest pool size. Unset: the DSN's pool_max_size, else 10. */
    private @Nullable Integer maxSize;

    /** Creates the pool settings, unset. */
    public Pool() {}

    /**
     * The initial size.
     *
     * @return the size, or null for the DSN's or the default
     */
    public @Nullable Integer getInitialSize() {
      return initialSize;
    }

    /**
     * Sets the initial size.
     *
     * @param initialSize 0 to the max size, or null
     */
    public void setInitialSize(@Nullable Integer initialSize) {
      this.initialSize = initialSize;
    }

    /**
     * The max size.
     *
     * @return the size, or null for the DSN's or the default
     */
    public @Nullable Integer getMaxSize() {
      return maxSize;
    }

    /**
     * Sets the max size.
     *
     * @param maxSize at least 1, or null
     */
    public void setMaxSize(@Nullable Integer maxSize) {
      this.maxSize = maxSize;
    }
  }

  /** Defaults of @PgqrsHandler consumers; each annotation attribute that is set wins. */
  public static class Consumer {

    /** How many handlers of one method run at once. */
    private int concurrency = 8;

    /** How long one handler may run before it is cancelled and its message released as failed. */
    private Duration handlerTimeout = Duration.ofMinutes(5);

    /**
     * How long shutdown waits for running handlers before releasing their messages. Keep it below
     * {@code spring.lifecycle.timeout-per-shutdown-phase} (30s by default).
     */
    private Duration shutdownTimeout = Duration.ofSeconds(20);

    /** Creates the consumer defaults. */
    public Consumer() {}

    /**
     * The concurrency.
     *
     * @return the concurrency
     */
    public int getConcurrency() {
      return concurrency;
    }

    /**
     * Sets the concurrency.
     *
     * @param concurrency 1 to 10,000
     */
    public void setConcurrency(int concurrency) {
      this.concurrency = concurrency;
    }

    /**
     * The handler timeout.
     *
     * @return the handler timeout
     */
    public Duration getHandlerTimeout() {
      return handlerTimeout;
    }

    /**
     * Sets the handler timeout.
     *
     * @param handlerTimeout above zero
     */
    public void setHandlerTimeout(Duration handlerTimeout) {
      this.handlerTimeout = handlerTimeout;
    }

    /**
     * The shutdown timeout.
     *
     * @return the shutdown timeout
     */
    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    /**
     * Sets the shutdown timeout.
     *
     * @param shutdownTimeout zero or more
     */
    public void setShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
    }
  }

  /** Defaults of the workers of @WorkflowMethod beans. */
  public static class Workflow {

    /** How many runs of one workflow execute at once in this application. */
    private int concurrency = 8;

    /**
     * How long shutdown waits for runs in flight to reach a step boundary before releasing them.
     * Keep it below {@code spring.lifecycle.timeout-per-shutdown-phase} (30s by default).
     */
    private Duration shutdownTimeout = Duration.ofSeconds(20);

    /** Creates the workflow worker defaults. */
    public Workflow() {}

    /**
     * The concurrency.
     *
     * @return the concurrency
     */
    public int getConcurrency() {
      return concurrency;
    }

    /**
     * Sets the concurrency.
     *
     * @param concurrency 1 to 10,000
     */
    public void setConcurrency(int concurrency) {
      this.concurrency = concurrency;
    }

    /**
     * The shutdown timeout.
     *
     * @return the shutdown timeout
     */
    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    /**
     * Sets the shutdown timeout.
     *
     * @param shutdownTimeout zero or more
     */
    public void setShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
    }
  }
}
