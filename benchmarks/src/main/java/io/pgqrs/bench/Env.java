package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The environment of a run, recorded with every cell: JDK, CPUs, memory, OS, git commit, and the
 * database's version and durability settings (PostgreSQL {@code synchronous_commit}, SQLite
 * version and {@code synchronous} mode).
 */
final class Env {

  private Env() {}

  /** The JVM and machine only, for runs without a database (JMH). */
  static ObjectNode jvm() {
    return collect(null);
  }

  static ObjectNode collect(@Nullable Target target) {
    ObjectNode env = Json.object();
    env.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    env.put("jdk_vendor", System.getProperty("java.vendor"));
    env.put("cpus", Runtime.getRuntime().availableProcessors());
    String cpu = cpuModel();
    if (cpu != null) {
      env.put("cpu_model", cpu);
    }
    env.put("max_heap_mb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
    String mem = memTotal();
    if (mem != null) {
      env.put("mem_total", mem);
    }
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch"));
    env.put("host", hostname());
    env.put("git_commit", gitCommit());
    if (target == null) {
      return env;
    }
    env.put("database", target.describe());
    if (target.isPostgres()) {
      try (Connection c = target.jdbc(); Statement st = c.createStatement()) {
        env.put("postgres_version", one(st, "SHOW server_version"));
        env.put("synchronous_commit", one(st, "SHOW synchronous_commit"));
        env.put("fsync", one(st, "SHOW fsync"));
        env.put("shared_buffers", one(st, "SHOW shared_buffers"));
        env.put("postgres_same_host", isLocal(target.pg().host()));
      } catch (SQLException e) {
        env.put("postgres_error", e.getMessage());
      }
    } else if (target.backend().equals("sqlite")) {
      env.put("sqlite_synchronous", target.sqliteSynchronous());
      Path file = target.sqliteFile();
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + (file == null ? ":memory:" : file));
           Statement st = c.createStatement()) {
        env.put("sqlite_version", one(st, "SELECT sqlite_version()"));
        if (file != null && Files.exists(file)) {
          env.put("sqlite_journal_mode", one(st, "PRAGMA journal_mode"));
        }
      } catch (SQLException e) {
        env.put("sqlite_error", e.getMessage());
      }
    }
    return env;
  }

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? String.valueOf(rs.getString(1)) : "";
    }
  }

  private static boolean isLocal(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  private static @Nullable String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  private static @Nullable String memTotal() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return (kb / 1024 / 1024) + " GiB";
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The commit given by {@code benchmarks/run} ({@code -Dpgqrs.bench.git}), else asks git. */
  static String gitCommit() {
    String given = System.getProperty("pgqrs.bench.git");
    if (given != null && !given.isBlank()) {
      return given;
    }
    try {
      Process p = new ProcessBuilder(List.of("git", "describe", "--always", "--dirty", "--abbrev=12"))
          .redirectErrorStream(true).start();
      try (InputStream in = p.getInputStream()) {
        String out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty()) {
          return out;
        }
      }
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "unknown";
  }
}
