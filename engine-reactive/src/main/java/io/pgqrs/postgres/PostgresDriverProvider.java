package io.pgqrs.postgres;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.internal.Dsns;
import io.pgqrs.internal.SqlStatements;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreDriverProvider;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.postgresql.client.SSLMode;
import io.r2dbc.spi.Connection;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Opens the PostgreSQL store (r2dbc-postgresql behind r2dbc-pool) for {@code postgresql://} and
 * {@code postgres://} DSNs. Recognised DSN parameters besides those of {@link PgqrsConfig}:
 * {@code sslmode} and {@code application_name}; any other parameter is refused.
 *
 * <p>Behind a transaction-mode pooler ({@link PgqrsConfig.Pooler#TRANSACTION}) the driver caches
 * no prepared statements (r2dbc-postgresql's {@code preparedStatementCacheQueries(0)}: every
 * statement is parsed as the unnamed statement, which cannot collide with another client's on a
 * shared server connection), opens no LISTEN connection, and sends the statement and lock
 * timeouts with each transaction ({@code SET LOCAL}) rather than as startup parameters, which
 * PgBouncer refuses. A direct connection starts with {@code plan_cache_mode=force_generic_plan}:
 * its cached statements are planned once, not at every execution.
 */
public final class PostgresDriverProvider implements StoreDriverProvider {

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public PostgresDriverProvider() {}

  @Override
  public boolean supports(String backend) {
    return "postgres".equals(backend);
  }

  @Override
  public Mono<StoreDriver> open(PgqrsConfig config) {
    return Mono.defer(() -> {
      // Read once per store: the driver and the listener share them.
      SqlStatements sql = PostgresStatements.forSchema(config.schema());
      PostgresqlConnectionFactory factory = new PostgresqlConnectionFactory(connectionConfiguration(config, ""));
      ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(factory)
          .name("pgqrs-" + config.schema())
          .initialSize(config.poolInitialSize())
          .maxSize(config.poolMaxSize())
          .maxIdleTime(Duration.ofMinutes(10))
          .maxAcquireTime(config.connectTimeout().multipliedBy(3))
          .maxCreateConnectionTime(config.connectTimeout())
          .acquireRetry(1)
          .build());
      // Wake-ups off, nothing LISTENs: no listener connection is ever opened.
      PostgresListener listener = config.wakeups()
          ? new PostgresListener(
              new PostgresqlConnectionFactory(connectionConfiguration(config, "-listener")), config.schema(), sql)
          : null;
      PostgresDriver driver = new PostgresDriver(pool, listener, config.schema(), sql, transactionSettings(config));
      return Mono.usingWhen(pool.create(), connection -> ping(connection, sql), Connection::close)
          .timeout(config.connectTimeout().multipliedBy(3))
          .<StoreDriver>thenReturn(driver)
          .onErrorResume(e -> pool.disposeLater().onErrorResume(ignored -> Mono.empty())
              .then(Mono.error(connectFailure(config, e))));
    });
  }

  /**
   * Why connecting failed: a refusal that retrying cannot fix (a pooler refusing a startup
   * parameter, a protocol violation) is a {@link ConfigurationException}; anything else may pass.
   */
  private static Throwable connectFailure(PgqrsConfig config, Throwable error) {
    Throwable translated = PostgresErrors.translate("connect", config.schema(), error);
    if (translated instanceof ConfigurationException) {
      return translated;
    }
    return new StoreUnavailableException("connect",
        "connect: cannot reach PostgreSQL at " + Dsns.mask(config.dsn()) + ": " + error.getMessage(), error);
  }

  /**
   * What begins a transaction behind a transaction-mode pooler: {@code BEGIN} and the timeouts as
   * {@code SET LOCAL}, in one simple query (one round trip, like {@code BEGIN} alone). A session's
   * {@code SET} would stay on the server connection for whichever client gets it next, and
   * PgBouncer refuses timeouts as startup parameters. Null for a direct connection, whose startup
   * parameters carry the timeouts.
   */
  static PostgresDriver.@Nullable TransactionSettings transactionSettings(PgqrsConfig config) {
    if (config.pooler() != PgqrsConfig.Pooler.TRANSACTION) {
      return null;
    }
    StringBuilder begin = new StringBuilder("BEGIN");
    if (!config.statementTimeout().isZero()) {
      begin.append("; SET LOCAL statement_timeout = ").append(config.statementTimeout().toMillis());
    }
    if (!config.lockTimeout().isZero()) {
      begin.append("; SET LOCAL lock_timeout = ").append(config.lockTimeout().toMillis());
    }
    return new PostgresDriver.TransactionSettings(begin.toString());
  }

  private static Mono<Long> ping(Connection connection, SqlStatements sql) {
    return Mono.from(connection.createStatement(sql.get("ping")).execute())
        .flatMap(result -> Mono.from(result.map((row, meta) -> 1L)));
  }

  /**
   * The connection settings of a DSN; {@code applicationSuffix} tells the listener's connection
   * from the pool's in {@code pg_stat_activity}.
   */
  static PostgresqlConnectionConfiguration connectionConfiguration(PgqrsConfig config, String applicationSuffix) {
    URI uri = Dsns.parse(config.dsn());
    String user = System.getProperty("user.name", "postgres");
    String password = null;
    Dsns.Credentials credentials = Dsns.credentials(config.dsn());
    if (credentials != null) {
      user = decode(credentials.rawUser());
      if (credentials.rawPassword() != null) {
        password = decode(credentials.rawPassword());
      }
    }
    Dsns.HostPort hostPort = Dsns.hostPort(uri);
    PostgresqlConnectionConfiguration.Builder builder = PostgresqlConnectionConfiguration.builder()
        .host(hostPort.host())
        .port(hostPort.port() < 0 ? 5432 : hostPort.port())
        .database(decode(uri.getRawPath().substring(1)))
        .username(user)
        .applicationName("pgqrs" + applicationSuffix)
        .connectTimeout(config.connectTimeout());
    if (config.pooler() == PgqrsConfig.Pooler.TRANSACTION) {
      // No named statements: another client's statement of the same name may be on the server
      // connection the pooler hands this client next.
      builder.preparedStatementCacheQueries(0);
    } else {
      // Startup parameters: on every connection from its start, at no extra round trip.
      // Generic plans: pgqrs's statements are cached per connection and keep one shape, but the
      // planner's default ("auto") kept re-planning the claim's CTEs on every execution, which
      // measured as the larger part of a claim's cost (drain 1 x 1: 184 -> 464 msg/s on the JDBC
      // ceiling, 150 -> 308 on the loop API). A plan that ignores the parameters' values can
      // still pick a table scan where a value would have ruled it out (the claims once scanned the
      // archive this way); the visible index and PostgresPlanTest, which checks the generic plans
      // of the claims, are what keep them on indexes. PostgreSQL 12+.
      builder.options(Map.of("plan_cache_mode", "force_generic_plan"));
      if (!config.statementTimeout().isZero()) {
        builder.statementTimeout(config.statementTimeout());
      }
      if (!config.lockTimeout().isZero()) {
        builder.lockWaitTimeout(config.lockTimeout());
      }
    }
    if (password != null) {
      builder.password(password);
    }
    for (Map.Entry<String, String> p : config.dsnParameters().entrySet()) {
      switch (p.getKey()) {
        case "sslmode" -> builder.sslMode(sslMode(p.getValue()));
        case "application_name" -> builder.applicationName(p.getValue() + applicationSuffix);
        default -> throw new ConfigurationException("dsn",
            "unknown dsn parameter '" + p.getKey()
                + "': PostgreSQL DSNs accept schema, pool_initial_size, pool_max_size, wakeups, pooler,"
                + " statement_timeout, lock_timeout, sslmode, application_name");
      }
    }
    return builder.build();
  }

  private static SSLMode sslMode(String value) {
    try {
      return SSLMode.fromValue(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("dsn", "invalid sslmode '" + value
          + "': use disable, allow, prefer, require, verify-ca or verify-full");
    }
  }

  private static String decode(String raw) {
    try {
      return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("dsn", "malformed percent-encoding in dsn");
    }
  }
}
