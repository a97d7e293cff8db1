package io.pgqrs.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * A PgBouncer in transaction pooling mode in front of the test PostgreSQL of
 * {@link PostgresDatabase}, for the tests that run the engine through a pooler.
 *
 * <p>Found like PostgreSQL: the environment variable {@value #URL_ENV} (for example
 * {@code postgresql://postgres@127.0.0.1:6432/test}, a PgBouncer in transaction mode in front of
 * the server of {@value PostgresDatabase#URL_ENV}) is used when set. Otherwise a {@code pgbouncer}
 * process ({@value #BIN_ENV} names the binary, else {@code pgbouncer} on the PATH or in
 * {@code /usr/sbin}) is started once per JVM on a free loopback port, with a generated
 * configuration in a temporary directory: {@code pool_mode = transaction}, trust authentication,
 * {@code ignore_startup_parameters = extra_float_digits}, and only {@value #SERVER_CONNECTIONS}
 * server connections per database and user, so that clients really share server connections. A
 * shutdown hook stops it. Without a binary the test is skipped, except under {@code CI=true}, where
 * it fails.
 */
@NullMarked
public final class PgBouncer {

  /** Environment variable holding the URL of a running PgBouncer in transaction mode. */
  public static final String URL_ENV = "PGQRS_TEST_PGBOUNCER_URL";
  /** Environment variable naming the pgbouncer binary. */
  public static final String BIN_ENV = "PGQRS_PGBOUNCER_BIN";
  /** Server connections PgBouncer opens per database and user: fewer than the engine's clients. */
  static final int SERVER_CONNECTIONS = 4;

  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private static @Nullable Endpoint endpoint;
  private static @Nullable Endpoint strictEndpoint;

  private PgBouncer() {}

  /** Where PgBouncer listens, and as whom the tests connect. */
  private record Endpoint(String host, int port, String database, String user, @Nullable String password) {}

  /**
   * A DSN of the target's schema through PgBouncer, with {@code pooler=transaction}.
   *
   * @param target the test class's database
   * @return {@code postgresql://user@host:port/db?schema=...&pooler=transaction}
   */
  public static String dsn(PostgresDatabase.Target target) {
    return dsnWithoutPooler(target) + "&pooler=transaction";
  }

  /**
   * A DSN of the target's schema through PgBouncer that does not tell the engine about the pooler:
   * what an unaware user would write.
   *
   * @param target the test class's database
   * @return {@code postgresql://user@host:port/db?schema=...}
   */
  public static String dsnWithoutPooler(PostgresDatabase.Target target) {
    return dsn(endpoint(target), target);
  }

  /**
   * A DSN, with {@code pooler=transaction}, of a second PgBouncer (always started here) that lacks
   * {@code ignore_startup_parameters}: it refuses the {@code extra_float_digits} that
   * r2dbc-postgresql sends at startup, as a PgBouncer set up without pgqrs's README does.
   *
   * @param target the test class's database
   * @return the DSN
   */
  public static String dsnRefusingStartupParameters(PostgresDatabase.Target target) {
    Endpoint e;
    synchronized (PgBouncer.class) {
      if (strictEndpoint == null) {
        strictEndpoint = start(target, false);
      }
      e = strictEndpoint;
    }
    return dsn(e, target) + "&pooler=transaction";
  }

  private static String dsn(Endpoint e, PostgresDatabase.Target target) {
    return "postgresql://" + e.user() + (e.password() == null ? "" : ":" + e.password()) + "@" + e.host() + ":"
        + e.port() + "/" + e.database() + "?schema=" + target.schema();
  }

  private static synchronized Endpoint endpoint(PostgresDatabase.Target target) {
    if (endpoint == null) {
      String url = System.getenv(URL_ENV);
      endpoint = url != null && !url.isBlank() ? parse(url.trim()) : start(target, true);
    }
    return endpoint;
  }

  private static Endpoint parse(String url) {
    try {
      URI uri = new URI(url);
      String userInfo = uri.getRawUserInfo();
      String user = "postgres";
      String password = null;
      if (userInfo != null) {
        int colon = userInfo.indexOf(':');
        user = colon < 0 ? userInfo : userInfo.substring(0, colon);
        password = colon < 0 ? null : userInfo.substring(colon + 1);
      }
      return new Endpoint(uri.getHost(), uri.getPort() < 0 ? 6432 : uri.getPort(), uri.getPath().substring(1), user,
          password);
    } catch (URISyntaxException | RuntimeException e) {
      throw new ExtensionConfigurationException(URL_ENV + " is not a postgresql:// URL: " + e.getMessage(), e);
    }
  }

  private static @Nullable Path binary() {
    String named = System.getenv(BIN_ENV);
    if (named != null && !named.isBlank()) {
      return Path.of(named.trim());
    }
    List<Path> candidates = new ArrayList<>();
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty()) {
        candidates.add(Path.of(dir, "pgbouncer"));
      }
    }
    candidates.add(Path.of("/usr/sbin/pgbouncer"));
    candidates.add(Path.of("/usr/bin/pgbouncer"));
    return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
  }

  private static Endpoint start(PostgresDatabase.Target target, boolean ignoreStartupParameters) {
    Path binary = binary();
    if (binary == null) {
      String why = "no pgbouncer binary (set " + BIN_ENV + " or " + URL_ENV + ", or apt-get install pgbouncer)";
      if ("true".equals(System.getenv("CI"))) {
        throw new ExtensionConfigurationException(why + "; CI=true, so this fails instead of skipping");
      }
      Assumptions.abort(why);
    }
    try {
      Path dir = Files.createTempDirectory("pgqrs-pgbouncer");
      int port = freePort();
      Files.writeString(dir.resolve("userlist.txt"), "\"" + target.user() + "\" \"\"\n", StandardCharsets.UTF_8);
      String server = "host=" + target.host() + " port=" + target.port() + " dbname=" + target.database()
          + " user=" + target.user() + (target.password() == null ? "" : " password=" + target.password());
      Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
          "[databases]",
          target.database() + " = " + server,
          "[pgbouncer]",
          "listen_addr = 127.0.0.1",
          "listen_port = " + port,
          "unix_socket_dir =",
          "auth_type = trust",
          "auth_file = " + dir.resolve("userlist.txt"),
          "pool_mode = transaction",
          "default_pool_size = " + SERVER_CONNECTIONS,
          "max_client_conn = 1000",
          ignoreStartupParameters ? "ignore_startup_parameters = extra_float_digits" : "",
          ""), StandardCharsets.UTF_8);
      // PgBouncer refuses to run as root; -u drops to an unprivileged user, who must read the files.
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      for (String f : List.of("userlist.txt", "pgbouncer.ini")) {
        Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
      }
      List<String> command = new ArrayList<>(List.of(binary.toString()));
      if ("root".equals(System.getProperty("user.name"))) {
        command.addAll(List.of("-u", "nobody"));
      }
      command.add(dir.resolve("pgbouncer.ini").toString());
      Path log = dir.resolve("pgbouncer.log");
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "pgqrs-test-pgbouncer-stop"));
      awaitListening(process, port, log);
      System.err.println("[pgqrs-test] started PgBouncer (transaction mode) on 127.0.0.1:" + port + " in front of "
          + target.host() + ":" + target.port());
      return new Endpoint("127.0.0.1", port, target.database(), target.user(), target.password());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start pgbouncer", e);
    }
  }

  /** Waits until the port accepts connections: the state PgBouncer reaches once it is up. */
  private static void awaitListening(Process process, int port, Path log) throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new ExtensionConfigurationException("pgbouncer exited with " + process.exitValue() + ": "
            + Files.readString(log, StandardCharsets.UTF_8));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        try {
          process.waitFor(50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
    process.destroy();
    throw new ExtensionConfigurationException("pgbouncer did not listen on port " + port + " within "
        + START_TIMEOUT + ": " + Files.readString(log, StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
