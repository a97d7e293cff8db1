package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs the built tool as an operator would: {@code java -jar target/pgqrs-cli.jar ARGS} in a
 * process of its own, with {@code PGQRS_DSN} set as asked and removed otherwise, and captures its
 * exit code, stdout and stderr. The jar comes from the system property {@code pgqrs.cli.jar}
 * (set by the failsafe plugin), else {@code target/pgqrs-cli.jar}.
 */
final class CliProcess {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 90;
  /**
   * A class-data archive of the tool's classes, written by the first run of this JVM and mapped by
   * every later one: most of a run's time is loading classes from the jar, and the archive halves
   * it. Only the runs' speed depends on it; a run whose archive cannot be mapped loads from the jar.
   */
  private static final Path CLASS_ARCHIVE = classArchive();
  private static boolean archiveRequested;

  private CliProcess() {}

  /**
   * What one run of the tool printed and returned.
   *
   * @param exitCode the process's exit code
   * @param out its stdout
   * @param err its stderr
   * @param command the arguments, for assertion messages
   */
  record Result(int exitCode, String out, String err, List<String> command) {

    /** Stdout read as the one JSON document it must be. */
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (JsonProcessingException e) {
        throw new AssertionError("stdout of " + command + " is not one JSON document: " + out + "\nstderr: " + err, e);
      }
    }

    /** Asserts the exit code, showing both streams when it differs. */
    Result exits(int expected) {
      assertThat(exitCode).as("exit code of %s%nstdout: %s%nstderr: %s", command, out, err).isEqualTo(expected);
      return this;
    }

    /** Everything the process printed. */
    String printed() {
      return out + err;
    }
  }

  static Path jar() {
    Path jar = Paths.get(System.getProperty("pgqrs.cli.jar", "target/pgqrs-cli.jar"));
    assertThat(jar).as("the tool's jar (built by mvn package)").isRegularFile();
    return jar;
  }

  /** Runs {@code pgqrs --dsn DSN ARGS}. */
  static Result withDsn(String dsn, String... args) {
    List<String> all = new ArrayList<>(List.of("--dsn", dsn));
    all.addAll(Arrays.asList(args));
    return run(null, all.toArray(String[]::new));
  }

  /** Runs {@code pgqrs ARGS} with {@code PGQRS_DSN} set to {@code dsnVariable}, or unset when null. */
  static Result run(@Nullable String dsnVariable, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    // As bin/pgqrs starts it: a short-lived process favours a quick start.
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    command.addAll(classArchiveOptions());
    command.addAll(List.of("-jar", jar().toString()));
    command.addAll(Arrays.asList(args));
    try {
      Path out = Files.createTempFile("pgqrs-cli-out", ".txt");
      Path err = Files.createTempFile("pgqrs-cli-err", ".txt");
      try {
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> environment = builder.environment();
        environment.remove(PgqrsCli.DSN_ENV);
        if (dsnVariable != null) {
          environment.put(PgqrsCli.DSN_ENV, dsnVariable);
        }
        Process process = builder.start();
        process.getOutputStream().close();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
          throw new AssertionError("pgqrs " + Arrays.toString(args) + " did not end within " + TIMEOUT_SECONDS
              + " s; stdout: " + Files.readString(out) + "; stderr: " + Files.readString(err));
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8), List.of(args));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while pgqrs ran", e);
    }
  }

  /** The first run writes the archive at its exit; later runs map it. JVM log lines are off: stdout is the result. */
  private static synchronized List<String> classArchiveOptions() {
    if (!archiveRequested) {
      archiveRequested = true;
      return List.of("-Xlog:disable", "-XX:ArchiveClassesAtExit=" + CLASS_ARCHIVE);
    }
    return Files.isRegularFile(CLASS_ARCHIVE)
        ? List.of("-Xlog:disable", "-Xshare:auto", "-XX:SharedArchiveFile=" + CLASS_ARCHIVE)
        : List.of("-Xlog:disable");
  }

  private static Path classArchive() {
    try {
      Path directory = Files.createTempDirectory("pgqrs-cli-cds");
      Path archive = directory.resolve("pgqrs-cli.jsa");
      directory.toFile().deleteOnExit();
      archive.toFile().deleteOnExit();
      return archive;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
