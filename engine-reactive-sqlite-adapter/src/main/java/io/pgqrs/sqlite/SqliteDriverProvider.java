package io.pgqrs.sqlite;

import static io.pgqrs.sqlite.SqliteSql.sql;

import io.pgqrs.Capabilities;
import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreDriverProvider;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.sqlite.SQLiteConfig;
import reactor.core.publisher.Mono;

/**
 * Opens the SQLite store for {@code sqlite:path/to/file.db}, {@code sqlite:///absolute/path.db},
 * {@code sqlite://relative/path.db} and {@code sqlite::memory:} DSNs.
 *
 * <p>A file is opened in WAL mode with foreign keys on, a busy timeout (default 5000 ms, DSN
 * parameter {@code busy_timeout}) and {@code synchronous=NORMAL} (DSN parameter
 * {@code synchronous}: {@code NORMAL} may lose the last commits on power loss but never corrupts;
 * {@code FULL} makes every commit durable at the cost of an fsync each). {@code sqlite::memory:} is
 * one in-process database shared by every store that opens it ({@code ?name=x} picks another);
 * it disappears when the last store closes. The schema option does not apply: the file is the
 * namespace.
 */
public final class SqliteDriverProvider implements StoreDriverProvider {

  private static final AtomicInteger OPENED = new AtomicInteger();
  private static final Capabilities CAPABILITIES = new Capabilities("sqlite", false, false, true, false, false);

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public SqliteDriverProvider() {}

  @Override
  public boolean supports(String backend) {
    return "sqlite".equals(backend);
  }

  /** Where a DSN points and how to open it. */
  record Target(String jdbcUrl, String description, boolean memory, String synchronous, int busyTimeoutMillis) {}

  static Target parse(PgqrsConfig config) {
    String dsn = config.dsn();
    int q = dsn.indexOf('?');
    String location = (q < 0 ? dsn : dsn.substring(0, q)).substring("sqlite:".length());
    String synchronous = "NORMAL";
    int busyTimeout = 5000;
    String memoryName = "pgqrs";
    for (Map.Entry<String, String> p : config.dsnParameters().entrySet()) {
      switch (p.getKey()) {
        case "synchronous" -> {
          synchronous = p.getValue().toUpperCase(Locale.ROOT);
          if (!synchronous.matches("OFF|NORMAL|FULL|EXTRA")) {
            throw new ConfigurationException("dsn", "synchronous must be OFF, NORMAL, FULL or EXTRA, got '"
                + p.getValue() + "'");
          }
        }
        case "busy_timeout" -> {
          try {
            busyTimeout = Integer.parseInt(p.getValue());
          } catch (NumberFormatException e) {
            busyTimeout = -1;
          }
          if (busyTimeout < 0) {
            throw new ConfigurationException("dsn", "busy_timeout must be a number of milliseconds, got '"
                + p.getValue() + "'");
          }
        }
        case "name" -> {
          memoryName = p.getValue();
          if (!memoryName.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new ConfigurationException("dsn", "name must be 1 to 64 letters, digits, '_' or '-'");
          }
        }
        default -> throw new ConfigurationException("dsn", "unknown dsn parameter '" + p.getKey()
            + "': SQLite DSNs accept synchronous, busy_timeout and (for :memory:) name");
      }
    }
    if (location.equals(":memory:")) {
      return new Target("jdbc:sqlite:file:" + memoryName + "?mode=memory&cache=shared",
          "in-memory database '" + memoryName + "'", true, synchronous, busyTimeout);
    }
    if (location.startsWith("//")) {
      location = location.substring(2);
    }
    if (location.isBlank() || location.indexOf('\0') >= 0) {
      throw new ConfigurationException("dsn", "sqlite dsn names no file: use sqlite:path/to/file.db or sqlite::memory:");
    }
    Path path = Path.of(location).toAbsolutePath().normalize();
    return new Target("jdbc:sqlite:" + path, path.toString(), false, synchronous, busyTimeout);
  }

  @Override
  public Mono<StoreDriver> open(PgqrsConfig config) {
    return Mono.defer(() -> {
      Target target = parse(config);
      return JdbcExecutor.open("writer-" + OPENED.incrementAndGet(), target.description(), () -> connect(target))
          .map(executor -> new SqliteDriver(executor, CAPABILITIES, target.description()));
    });
  }

  /**
   * Opens the JDBC connection of a target, its settings applied; runs on the writer thread. The
   * busy timeout and the synchronous mode come from the DSN and are given to the SQLite driver
   * (pragmas take no parameters); the fixed settings are statements of {@code schema.sql}.
   */
  static Connection connect(Target target) throws SQLException {
    SQLiteConfig settings = new SQLiteConfig();
    settings.setBusyTimeout(target.busyTimeoutMillis());
    settings.setPragma(SQLiteConfig.Pragma.SYNCHRONOUS, target.synchronous());
    Connection connection = DriverManager.getConnection(target.jdbcUrl(), settings.toProperties());
    try (Statement st = connection.createStatement()) {
      st.execute(sql("enable_foreign_keys"));
      if (!target.memory()) {
        st.execute(sql("use_wal"));
      }
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return connection;
  }
}
