package io.pgqrs.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * Where measured cells go: one compact JSON object per line on stdout (flushed at once, so a
 * caller can read the last line as soon as the process ends) and the same line appended to
 * {@code OUT/SCENARIO-BACKEND-RUNID.jsonl}. Every line carries the scenario, backend, run id,
 * time and the run's environment.
 */
final class Results implements AutoCloseable {

  private static final DateTimeFormatter RUN_ID =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final String scenario;
  private final String backend;
  private final String runId;
  private final ObjectNode env;
  private final Path file;
  private final BufferedWriter out;

  Results(Path dir, String scenario, String backend, ObjectNode env) {
    this.scenario = scenario;
    this.backend = backend;
    this.env = env;
    try {
      Files.createDirectories(dir);
      // Two runs of one scenario started in the same second (the smoke test does this) must not
      // share a file or a run id, or the report merges them into one run.
      String base = RUN_ID.format(Instant.now());
      String id = base;
      Path candidate = dir.resolve(scenario + "-" + backend + "-" + id + ".jsonl");
      BufferedWriter writer = null;
      for (int seq = 2; writer == null; seq++) {
        try {
          writer = Files.newBufferedWriter(candidate, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException taken) {
          // The suffix keeps ids sorting by start time: "...Z" < "...Z-02" < "...Z-03".
          id = base + "-" + String.format("%02d", seq);
          candidate = dir.resolve(scenario + "-" + backend + "-" + id + ".jsonl");
        }
      }
      this.runId = id;
      this.file = candidate;
      this.out = writer;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir, e);
    }
  }

  /** A new cell object with the common fields first. */
  ObjectNode cell(String subject) {
    ObjectNode node = Json.object();
    node.put("scenario", scenario);
    node.put("backend", backend);
    node.put("subject", subject);
    node.put("status", "ok");
    return node;
  }

  /** Prints and stores one measured cell. */
  void emit(ObjectNode cell) {
    cell.put("run_id", runId);
    cell.put("at", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    cell.set("env", env);
    String line;
    try {
      line = Json.MAPPER.writeValueAsString(cell);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    System.out.println(line);
    System.out.flush();
    try {
      out.write(line);
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file, e);
    }
  }

  Path file() {
    return file;
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
