package io.pgqrs.sqlite;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Turso server for one test class: {@code tursodb --sync-server} on a free loopback port
 * with a fresh database file in a new temporary folder, started before the class and stopped after
 * it (and when the JVM exits). Register it as a static {@code @RegisterExtension} field.
 *
 * <p>The binary is {@code $PGQRS_TURSO_BIN}, else the pinned version, fetched once into the user
 * cache (see {@link #binary}). A binary that cannot be found or fetched fails the class with
 * instructions; it is never skipped.
 */
final class TursoServer implements BeforeAllCallback, AfterAllCallback {

  private static final Duration STARTUP = Duration.ofSeconds(30);

  private Process process;
  private Path folder;
  private Path log;
  private int port;
  private Thread shutdownHook;

  /** The DSN of the running server. */
  String dsn() {
    if (process == null) {
      throw new IllegalStateException("the Turso server is not running");
    }
    return "turso:http://127.0.0.1:" + port;
  }

  /** The base URL of the running server. */
  String url() {
    return "http://127.0.0.1:" + port;
  }

  /** Connects a store to the running server. */
  Store connect() {
    return Pgqrs.connect(dsn()).block(Duration.ofSeconds(30));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop();
  }

  void start() throws IOException, InterruptedException {
    Path binary = binary(System.getenv());
    folder = Files.createTempDirectory("pgqrs-turso-test");
    log = folder.resolve("tursodb.log");
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      port = freePort();
      process = new ProcessBuilder(binary.toString(), "--sync-server", "127.0.0.1:" + port,
          folder.resolve("pgqrs.db").toString())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      shutdownHook = new Thread(this::stopProcess, "pgqrs-turso-test-stop");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
      try {
        awaitReady();
        return;
      } catch (IOException e) {
        last = e;
        stopProcess();
        removeHook();
      }
    }
    throw last;
  }

  private void awaitReady() throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest ping = HttpRequest.newBuilder(URI.create(url() + "/v2/pipeline"))
        .timeout(Duration.ofSeconds(5))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"baton\":null,\"requests\":[{\"type\":\"execute\",\"stmt\":{\"sql\":\"SELECT 1\"}}]}"))
        .build();
    long deadline = System.nanoTime() + STARTUP.toNanos();
    String lastProblem = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("tursodb exited with status " + process.exitValue() + " before answering: "
            + logTail());
      }
      try {
        HttpResponse<String> response = client.send(ping, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains("\"ok\"")) {
          return;
        }
        lastProblem = "HTTP " + response.statusCode() + " " + response.body();
      } catch (IOException e) {
        lastProblem = e.toString();
      }
      Thread.sleep(50);
    }
    throw new IOException("tursodb did not answer on " + url() + "/v2/pipeline within " + STARTUP.toSeconds()
        + " s (" + lastProblem + "): " + logTail());
  }

  void stop() {
    stopProcess();
    removeHook();
    if (folder != null) {
      try (Stream<Path> files = Files.walk(folder)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      folder = null;
    }
  }

  private synchronized void stopProcess() {
    Process p = process;
    if (p == null) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  private void removeHook() {
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException alreadyExiting) {
        // the hook runs anyway
      }
      shutdownHook = null;
    }
  }

  private String logTail() {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8).strip();
      return text.isEmpty() ? "(no output)" : text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  // ---------------------------------------------------------------- finding the binary

  /** The pinned tursodb: 0.7.0 is the first whose ON CONFLICT takes a partial unique index. */
  static final String VERSION = "0.7.0";

  /** The npm package of the Linux x86-64 build and the sha512 of its tarball, from the registry. */
  private static final String PACKAGE = "@tursodatabase/cli-linux-x64-gnu";
  private static final String TARBALL_SHA512 =
      "EXv9lKHTXSyeWJcuTBzrWDVBeiltCbg5XEnSkXQpiDjYkyvVab2J+1np6LjASqwxVYTOJvnHX56urk0hasIL9A==";

  /**
   * Finds tursodb: {@code $PGQRS_TURSO_BIN} if set, else the pinned version in the user cache
   * ({@code ~/.cache/pgqrs/tursodb-VERSION}), downloaded there from the npm registry
   * ({@code $PGQRS_NPM_REGISTRY}, default registry.npmjs.org) and checked against its pinned
   * sha512 the first time. Fails, never skips, when neither works.
   */
  static synchronized Path binary(Map<String, String> env) throws IOException, InterruptedException {
    String explicit = env.get("PGQRS_TURSO_BIN");
    if (explicit != null && !explicit.isBlank()) {
      Path bin = Path.of(explicit);
      if (!Files.isExecutable(bin)) {
        throw new IllegalStateException("PGQRS_TURSO_BIN=" + explicit + " is not an executable file");
      }
      return bin;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new IllegalStateException("the Turso tests download tursodb " + VERSION + " for Linux x86-64 only;"
          + " on " + os + " " + arch + " point PGQRS_TURSO_BIN at a tursodb " + VERSION + " binary");
    }
    Path dir = Path.of(System.getProperty("user.home"), ".cache", "pgqrs", "tursodb-" + VERSION);
    Path bin = dir.resolve("tursodb");
    if (Files.isExecutable(bin)) {
      return bin;
    }
    String registry = env.getOrDefault("PGQRS_NPM_REGISTRY", "https://registry.npmjs.org");
    String name = PACKAGE.substring(PACKAGE.indexOf('/') + 1);
    URI tarball = URI.create(registry.replaceAll("/+$", "") + "/" + PACKAGE + "/-/" + name + "-" + VERSION + ".tgz");
    byte[] archive;
    try {
      HttpResponse<byte[]> response = HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(20))
          .followRedirects(HttpClient.Redirect.NORMAL)
          .build()
          .send(HttpRequest.newBuilder(tarball).timeout(Duration.ofMinutes(5)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new IOException("HTTP " + response.statusCode());
      }
      archive = response.body();
    } catch (IOException e) {
      throw new IllegalStateException("could not download tursodb " + VERSION + " from " + tarball + " (" + e
          + "); set PGQRS_NPM_REGISTRY to a reachable npm registry or PGQRS_TURSO_BIN to a tursodb binary", e);
    }
    String digest = Base64.getEncoder().encodeToString(sha512(archive));
    if (!digest.equals(TARBALL_SHA512)) {
      throw new IllegalStateException(tarball + " has sha512 " + digest + ", expected " + TARBALL_SHA512);
    }
    Files.createDirectories(dir);
    Path partial = Files.createTempFile(dir, "tursodb", ".part");
    try {
      Files.write(partial, entry(archive, "package/tursodb"));
      if (!partial.toFile().setExecutable(true, false)) {
        throw new IOException("cannot make " + partial + " executable");
      }
      Files.move(partial, bin, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
    return bin;
  }

  private static byte[] sha512(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-512").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads one regular file out of a gzipped ustar archive. */
  private static byte[] entry(byte[] tgz, String wanted) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(tgz))) {
      byte[] header = new byte[512];
      while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
        String entryName = field(header, 345, 155).isEmpty()
            ? field(header, 0, 100)
            : field(header, 345, 155) + "/" + field(header, 0, 100);
        String octalSize = field(header, 124, 12).trim();
        long size = octalSize.isEmpty() ? 0 : Long.parseLong(octalSize, 8);
        long padded = (size + 511) / 512 * 512;
        if (entryName.equals(wanted) && (header[156] == '0' || header[156] == 0)) {
          return in.readNBytes(Math.toIntExact(size));
        }
        in.skipNBytes(padded);
      }
    }
    throw new IOException("the tursodb package holds no " + wanted);
  }

  private static String field(byte[] header, int offset, int length) {
    int end = offset;
    while (end < offset + length && header[end] != 0) {
      end++;
    }
    return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
  }
}
