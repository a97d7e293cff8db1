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
import reactor.core.publisher.Mono;

/**
 * Opens the PostgreSQL store (r2dbc-postgresql behind r2dbc-pool) for {@code postgresql://} and
 * {@code postgres://} DSNs. Recognised DSN parameters besides those of {@link PgqrsConfig}:
 * {@code sslmode} and {@code application_name}; any other parameter is refused.
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
      PostgresListener listener = new PostgresListener(
          new PostgresqlConnectionFactory(connectionConfiguration(config, "-listener")), config.schema(), sql);
      PostgresDriver driver = new PostgresDriver(pool, listener, config.schema(), sql);
      return Mono.usingWhen(pool.create(), connection -> ping(connection, sql), Connection::close)
          .timeout(config.connectTimeout().multipliedBy(3))
          .<StoreDriver>thenReturn(driver)
          .onErrorResume(e -> pool.disposeLater().onErrorResume(ignored -> Mono.empty())
              .then(Mono.error(new StoreUnavailableException("connect",
                  "connect: cannot reach PostgreSQL at " + Dsns.mask(config.dsn()) + ": " + e.getMessage(), e))));
    });
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
    URI uri = URI.create(config.dsn());
    String user = System.getProperty("user.name", "postgres");
    String password = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      if (colon >= 0) {
        password = decode(userInfo.substring(colon + 1));
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
    if (password != null) {
      builder.password(password);
    }
    for (Map.Entry<String, String> p : config.dsnParameters().entrySet()) {
      switch (p.getKey()) {
        case "sslmode" -> builder.sslMode(sslMode(p.getValue()));
        case "application_name" -> builder.applicationName(p.getValue() + applicationSuffix);
        default -> throw new ConfigurationException("dsn",
            "unknown dsn parameter '" + p.getKey()
                + "': PostgreSQL DSNs accept schema, pool_initial_size, pool_max_size, sslmode, application_name");
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
