package io.pgqrs.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Where one benchmark run writes: a backend and, on PostgreSQL, fresh schemas created for this run
 * only (pgqrs, the ceiling and each peer get their own) and dropped when it ends; on SQLite a fresh
 * temporary file unless a URL names one. Runs never see each other's rows.
 */
final class Target implements AutoCloseable {

  private static final String DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test";

  private final String backend;
  private final String tag;
  private final boolean keep;
  private final @Nullable PgServer pg;
  private final @Nullable String sqliteOrTursoDsn;
  private final @Nullable Path tempFile;
  private final List<String> schemas = new ArrayList<>();

  private Target(String backend, String tag, boolean keep, @Nullable PgServer pg, @Nullable String dsn,
      @Nullable Path tempFile) {
    this.backend = backend;
    this.tag = tag;
    this.keep = keep;
    this.pg = pg;
    this.sqliteOrTursoDsn = dsn;
    this.tempFile = tempFile;
  }

  /** A PostgreSQL server and credentials, parsed from a {@code postgresql://} URL. */
  record PgServer(String host, int port, String database, String user, @Nullable String password,
      Map<String, String> params) {

    String jdbcUrl() {
      String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
      return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    Properties jdbcProperties() {
      Properties p = new Properties();
      p.setProperty("user", user);
      if (password != null) {
        p.setProperty("password", password);
      }
      p.setProperty("ApplicationName", "pgqrs-bench");
      String ssl = params.get("sslmode");
      if (ssl != null) {
        p.setProperty("sslmode", ssl);
      }
      return p;
    }

    String masked() {
      return "postgresql://" + user + (password == null ? "" : ":***") + "@" + host + ":" + port + "/" + database;
    }
  }

  /**
   * Opens a target for a scenario run.
   *
   * @param backend {@code postgres}, {@code sqlite} or {@code turso}; null to infer from the URL
   * @param url the database URL, or null for the default of the backend
   * @param scenario the scenario name, part of the schema names
   * @param keep keep schemas and files after the run (for inspection)
   */
  static Target open(@Nullable String backend, @Nullable String url, String scenario, boolean keep) {
    String b = backend == null ? inferBackend(url) : backend.toLowerCase(Locale.ROOT);
    String tag = "pgqrs_bench_" + scenario + "_"
        + LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("MMddHHmmss"))
        + String.format("_%04x", ThreadLocalRandom.current().nextInt(1 << 16));
    switch (b) {
      case "postgres", "postgresql" -> {
        String u = url;
        if (u == null) {
          u = firstEnv("PGQRS_BENCH_POSTGRES_URL", "PGQRS_TEST_POSTGRES_URL");
        }
        if (u == null) {
          u = DEFAULT_POSTGRES_URL;
          Log.info("no --url given: using " + u);
        }
        PgServer server = parsePostgres(u);
        return new Target("postgres", tag, keep, server, null, null);
      }
      case "sqlite" -> {
        if (url != null) {
          return new Target("sqlite", tag, keep, null, url, null);
        }
        Path file;
        try {
          file = Files.createTempFile("pgqrs-bench-", ".db");
          Files.delete(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return new Target("sqlite", tag, keep, null, "sqlite:" + file, file);
      }
      case "turso" -> {
        if (url == null) {
          throw new IllegalArgumentException("--backend turso needs --url turso:http://HOST:PORT");
        }
        return new Target("turso", tag, keep, null, url, null);
      }
      default -> throw new IllegalArgumentException("--backend must be postgres, sqlite or turso, not " + b);
    }
  }

  private static String inferBackend(@Nullable String url) {
    if (url == null || url.startsWith("postgres")) {
      return "postgres";
    }
    if (url.startsWith("sqlite:")) {
      return "sqlite";
    }
    if (url.startsWith("turso") || url.startsWith("libsql")) {
      return "turso";
    }
    throw new IllegalArgumentException("cannot tell the backend of --url " + url + "; give --backend");
  }

  private static @Nullable String firstEnv(String... names) {
    for (String n : names) {
      String v = System.getenv(n);
      if (v != null && !v.isBlank()) {
        return v.trim();
      }
    }
    return null;
  }

  static PgServer parsePostgres(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--url is not a URL: " + e.getMessage(), e);
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
      throw new IllegalArgumentException("--url for PostgreSQL must start with postgresql://, got " + url);
    }
    String host = uri.getHost();
    if (host == null) {
      throw new IllegalArgumentException("--url has no host: " + url);
    }
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    String user = "postgres";
    String password = null;
    String info = uri.getRawUserInfo();
    if (info != null && !info.isEmpty()) {
      int colon = info.indexOf(':');
      user = decode(colon >= 0 ? info.substring(0, colon) : info);
      password = colon >= 0 ? decode(info.substring(colon + 1)) : null;
    }
    String path = uri.getPath();
    String database = path == null || path.length() <= 1 ? user : path.substring(1);
    Map<String, String> params = new LinkedHashMap<>();
    String query = uri.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          params.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
      }
    }
    return new PgServer(host, port, database, user, password, params);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  String backend() {
    return backend;
  }

  boolean isPostgres() {
    return pg != null;
  }

  /** A prefix unique to this run, usable in queue names and schema names. */
  String tag() {
    return tag;
  }

  PgServer pg() {
    if (pg == null) {
      throw new IllegalStateException("not a PostgreSQL target");
    }
    return pg;
  }

  /** What to print about the database (passwords masked). */
  String describe() {
    if (pg != null) {
      return pg.masked();
    }
    return String.valueOf(sqliteOrTursoDsn).replaceAll("(auth_token=)[^&]*", "$1***");
  }

  /**
   * Creates a fresh PostgreSQL schema for this run, dropped on {@link #close()}.
   *
   * @param suffix what the schema is for, appended to the run's tag
   * @return the schema name
   */
  String newSchema(String suffix) {
    String name = (tag + "_" + suffix).toLowerCase(Locale.ROOT);
    if (name.length() > 63) {
      name = name.substring(0, 63);
    }
    execute("CREATE SCHEMA \"" + name + "\"");
    schemas.add(name);
    return name;
  }

  /**
   * The pgqrs DSN: on PostgreSQL a fresh schema with the given pool size, otherwise the SQLite or
   * Turso DSN.
   */
  String pgqrsDsn(@Nullable String schema, int poolMaxSize) {
    return pgqrsDsn(schema, poolMaxSize, null);
  }

  /**
   * The pgqrs DSN as {@link #pgqrsDsn(String, int)}, on PostgreSQL with the given
   * {@code application_name} (null keeps the URL's or the engine's default).
   */
  String pgqrsDsn(@Nullable String schema, int poolMaxSize, @Nullable String applicationName) {
    if (pg == null) {
      return String.valueOf(sqliteOrTursoDsn);
    }
    StringBuilder sb = new StringBuilder("postgresql://").append(encode(pg.user()));
    if (pg.password() != null) {
      sb.append(':').append(encode(pg.password()));
    }
    String h = pg.host().indexOf(':') >= 0 ? "[" + pg.host() + "]" : pg.host();
    sb.append('@').append(h).append(':').append(pg.port()).append('/').append(pg.database());
    Map<String, String> params = new LinkedHashMap<>(pg.params());
    params.keySet().removeAll(List.of("schema", "pool_max_size", "pool_initial_size"));
    if (schema != null) {
      params.put("schema", schema);
    }
    params.put("pool_initial_size", String.valueOf(Math.min(poolMaxSize, 4)));
    params.put("pool_max_size", String.valueOf(poolMaxSize));
    if (applicationName != null) {
      params.put("application_name", applicationName);
    }
    char sep = '?';
    for (Map.Entry<String, String> e : params.entrySet()) {
      sb.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
      sep = '&';
    }
    return sb.toString();
  }

  /** The SQLite file this run writes, if the backend is SQLite with a file. */
  @Nullable Path sqliteFile() {
    if (sqliteOrTursoDsn == null || !sqliteOrTursoDsn.startsWith("sqlite:")) {
      return null;
    }
    String rest = sqliteOrTursoDsn.substring("sqlite:".length());
    int q = rest.indexOf('?');
    if (q >= 0) {
      rest = rest.substring(0, q);
    }
    if (rest.startsWith("//")) {
      rest = rest.substring(2);
    }
    return rest.isEmpty() || rest.startsWith(":memory:") ? null : Path.of(rest);
  }

  /** The {@code synchronous} mode the pgqrs SQLite store runs with (its DSN parameter, default NORMAL). */
  String sqliteSynchronous() {
    String dsn = String.valueOf(sqliteOrTursoDsn);
    int i = dsn.indexOf("synchronous=");
    if (i < 0) {
      return "NORMAL";
    }
    String v = dsn.substring(i + "synchronous=".length());
    int amp = v.indexOf('&');
    return (amp >= 0 ? v.substring(0, amp) : v).toUpperCase(Locale.ROOT);
  }

  /** A new plain JDBC connection to the PostgreSQL server, auto-commit on. */
  Connection jdbc() throws SQLException {
    PgServer s = pg();
    return DriverManager.getConnection(s.jdbcUrl(), s.jdbcProperties());
  }

  /** A Hikari pool on the PostgreSQL server whose connections use the given schema. */
  HikariDataSource dataSource(String schema, int maxPoolSize, String poolName) {
    PgServer s = pg();
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(s.jdbcUrl());
    c.setDataSourceProperties(s.jdbcProperties());
    c.addDataSourceProperty("currentSchema", schema);
    c.setMaximumPoolSize(maxPoolSize);
    c.setMinimumIdle(Math.min(2, maxPoolSize));
    c.setPoolName(poolName);
    return new HikariDataSource(c);
  }

  /** Runs one statement on a fresh connection. */
  void execute(String sql) {
    try (Connection c = jdbc(); Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("could not run `" + sql + "` on " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    if (keep) {
      Log.info("kept " + (pg != null ? "schemas " + schemas : "database " + describe()));
      return;
    }
    if (pg != null) {
      for (String s : schemas) {
        try {
          execute("DROP SCHEMA IF EXISTS \"" + s + "\" CASCADE");
        } catch (RuntimeException e) {
          Log.info("could not drop schema " + s + ": " + e.getMessage());
        }
      }
    }
    if (tempFile != null) {
      for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
        try {
          Files.deleteIfExists(Path.of(tempFile + suffix));
        } catch (IOException e) {
          Log.info("could not delete " + tempFile + suffix + ": " + e.getMessage());
        }
      }
    }
  }
}
