package io.pgqrs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Committed transactions of a measured window on the benchmark's PostgreSQL database, from
 * {@code pg_stat_database.xact_commit}: read before and after, on a connection of its own.
 *
 * <p>Statistics reach {@code pg_stat_database} lazily. On PostgreSQL 15 and later a backend
 * flushes its pending counts at the end of a transaction at most once a second, and an idle
 * backend that flushed less than a second before going idle keeps them up to 10 s
 * ({@code PGSTAT_IDLE_INTERVAL}); {@code pg_stat_force_next_flush()} acts on the calling backend
 * only. So every reading waits a settle period first (11 s by default, {@code --stats-settle}), and
 * each reading flushes this connection's own transaction at once, so that each reading adds
 * exactly one commit to the next.
 *
 * <p>The count is database-wide: it includes the engines' background work (heartbeats, polls,
 * maintenance, DBOS's queue poller) and any other session on the same database. Before a window
 * the counter measures the idle rate (commits per second with the subject set up and idle) and
 * reports the window's commits net of that rate, beside the raw count; it also reports how many
 * sessions on the database are not the benchmark's own (by {@code application_name}), which
 * should be zero for a clean number. Use a database of its own for the measurement.
 */
final class CommitCounter implements AutoCloseable {

  /** Every connection the workflow scenarios open has an {@code application_name} starting so. */
  static final String APPLICATION_PREFIX = "pgqrs-bench";

  private final Connection connection;
  private final PreparedStatement read;
  private final Duration settle;
  private final Duration idleWindow;

  /** One reading: the database's commits, when, and how many other sessions were connected. */
  record Reading(long commits, long nanos, long foreignSessions) {}

  /** An open window: the reading it starts from and the idle rate measured just before. */
  record Window(Reading start, double idlePerSecond, boolean idleMeasured) {}

  CommitCounter(Target target, Duration settle) throws SQLException {
    this.settle = settle;
    this.idleWindow = settle.compareTo(Duration.ofSeconds(3)) < 0 ? settle : Duration.ofSeconds(3);
    this.connection = target.jdbc();
    boolean canForce;
    try (PreparedStatement v = connection.prepareStatement("SELECT current_setting('server_version_num')::int");
         ResultSet rs = v.executeQuery()) {
      canForce = rs.next() && rs.getInt(1) >= 150000;
    }
    String flush = canForce ? ", pg_stat_force_next_flush()" : "";
    this.read = connection.prepareStatement("SELECT d.xact_commit, (SELECT count(*) FROM pg_stat_activity a"
        + " WHERE a.datname = current_database() AND a.backend_type = 'client backend'"
        + " AND a.pid <> pg_backend_pid() AND coalesce(a.application_name, '') NOT LIKE '" + APPLICATION_PREFIX
        + "%')" + flush + " FROM pg_stat_database d WHERE d.datname = current_database()");
  }

  /** The settle period before each reading. */
  Duration settle() {
    return settle;
  }

  /**
   * Opens a window: waits for what came before to be flushed, then measures the idle rate over a
   * few seconds (the settle period if shorter, nothing if it is zero).
   */
  Window begin() throws SQLException, InterruptedException {
    pause(settle);
    Reading a = reading();
    if (idleWindow.isZero()) {
      return new Window(a, 0, false);
    }
    pause(idleWindow);
    Reading b = reading();
    double seconds = (b.nanos() - a.nanos()) / 1e9;
    // The first reading's own commit is in the second.
    double rate = Math.max(0, b.commits() - a.commits() - 1) / seconds;
    return new Window(new Reading(b.commits(), b.nanos(), Math.max(a.foreignSessions(), b.foreignSessions())),
        rate, true);
  }

  /**
   * Closes a window after {@code runs} runs and writes to the cell: {@code xact_commits} (raw),
   * {@code xact_window_s}, {@code xact_idle_per_s}, {@code xact_per_run} (net of the idle rate
   * over the window), {@code xact_per_run_raw}, {@code xact_settle_s} and {@code foreign_sessions}.
   *
   * @return the net commits per run
   */
  double finish(Window window, long runs, ObjectNode cell) throws SQLException, InterruptedException {
    pause(settle);
    Reading end = reading();
    long raw = end.commits() - window.start().commits() - 1;
    double seconds = (end.nanos() - window.start().nanos()) / 1e9;
    double net = raw - window.idlePerSecond() * seconds;
    cell.put("xact_commits", raw);
    Latencies.put(cell, "xact_window_s", seconds);
    if (window.idleMeasured()) {
      Latencies.put(cell, "xact_idle_per_s", window.idlePerSecond());
    } else {
      cell.putNull("xact_idle_per_s");
    }
    Latencies.put(cell, "xact_per_run", runs == 0 ? Double.NaN : net / runs);
    Latencies.put(cell, "xact_per_run_raw", runs == 0 ? Double.NaN : raw / (double) runs);
    cell.put("xact_settle_s", settle.toMillis() / 1000.0);
    long foreign = Math.max(window.start().foreignSessions(), end.foreignSessions());
    cell.put("foreign_sessions", foreign);
    if (foreign > 0) {
      Log.info("  " + foreign + " other session(s) on the database during the window: the commit counts include "
          + "theirs (use a database of its own for a clean xact/run)");
    }
    return runs == 0 ? Double.NaN : net / runs;
  }

  private Reading reading() throws SQLException {
    try (ResultSet rs = read.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("pg_stat_database has no row for the current database");
      }
      return new Reading(rs.getLong(1), System.nanoTime(), rs.getLong(2));
    }
  }

  private static void pause(Duration d) throws InterruptedException {
    if (!d.isZero()) {
      Thread.sleep(d.toMillis());
    }
  }

  @Override
  public void close() throws SQLException {
    try {
      read.close();
    } finally {
      connection.close();
    }
  }
}
