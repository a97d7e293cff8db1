package io.pgqrs.bench;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The hardware ceiling of a drain: the engine's own claim statement ({@code FOR UPDATE SKIP LOCKED}
 * CTE plus {@code UPDATE ... RETURNING}) and archive statement ({@code archive_many}), run with
 * plain JDBC from N platform threads, each on its own connection in auto-commit, with server-side
 * prepared statements and nothing else: no pool, no reactive pipeline, no JSON parsing beyond
 * reading the payload text. Whatever pgqrs does on top shows up as the gap to this. Like the engine
 * (PostgresHotTableVacuum), it vacuums the messages table after every {@link #VACUUM_EVERY}
 * claimed messages, one vacuum at a time on a connection of its own: without that its claims walk
 * the dead index entries the drain leaves at the head of the queue, and it would be no ceiling.
 */
final class JdbcCeiling {

  /** The engine's PostgresHotTableVacuum.EVERY. */
  static final long VACUUM_EVERY = 10_000;

  private final Target target;
  private final EngineSql.JdbcStatement claim;
  private final EngineSql.JdbcStatement archive;
  private final String vacuum;
  private final String queue;
  /** Claimed since the last vacuum started, and whether one runs: the engine's policy, see below. */
  private final AtomicLong claimedSinceVacuum = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicBoolean vacuuming = new java.util.concurrent.atomic.AtomicBoolean();
  private final List<Thread> vacuums = java.util.Collections.synchronizedList(new ArrayList<>());

  JdbcCeiling(Target target, String schema, String queue) {
    this.target = target;
    EngineSql sql = EngineSql.forSchema(schema);
    this.claim = EngineSql.jdbc(sql.claim);
    this.archive = EngineSql.jdbc(sql.archiveMany);
    this.vacuum = sql.vacuumMessages;
    this.queue = queue;
  }

  /** What one drain measured. */
  record Run(long messages, long nanos) {}

  /**
   * Drains {@code total} messages from the queue with {@code threads} threads claiming
   * {@code batch} at a time under a 30 s lease, recording claim and archive latencies.
   */
  Run drain(int threads, int batch, long total, Latencies claims, Latencies acks) throws InterruptedException {
    AtomicLong done = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Connection> connections = new ArrayList<>();
    try {
      for (int i = 0; i < threads; i++) {
        Connection c = target.jdbc();
        connections.add(c);
        c.setAutoCommit(true);
        // The session setting every direct store connection starts with (PostgresDriverProvider):
        // without it the ceiling would plan the claim again at every execution, and not be one.
        try (java.sql.Statement st = c.createStatement()) {
          st.execute("SET plan_cache_mode = force_generic_plan");
        }
      }
    } catch (SQLException e) {
      closeAll(connections);
      throw new IllegalStateException("ceiling: cannot connect: " + e.getMessage(), e);
    }
    List<Thread> workers = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < threads; i++) {
      Connection c = connections.get(i);
      Thread t = new Thread(() -> {
        try {
          loop(c, batch, total, done, claims, acks);
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "ceiling-" + i);
      workers.add(t);
      t.start();
    }
    for (Thread t : workers) {
      t.join();
    }
    long nanos = System.nanoTime() - start;
    // A vacuum still running would weigh on the next cell.
    for (Thread t : List.copyOf(vacuums)) {
      t.join();
    }
    closeAll(connections);
    if (failure.get() != null) {
      throw new IllegalStateException("ceiling drain failed: " + failure.get(), failure.get());
    }
    return new Run(done.get(), nanos);
  }

  /** Counts claimed messages; the claim that reaches the threshold starts a vacuum unless one runs. */
  private void vacuumAfter(int claimed) {
    if (claimedSinceVacuum.addAndGet(claimed) < VACUUM_EVERY || !vacuuming.compareAndSet(false, true)) {
      return;
    }
    claimedSinceVacuum.set(0);
    Thread t = new Thread(() -> {
      try (Connection c = target.jdbc(); java.sql.Statement st = c.createStatement()) {
        c.setAutoCommit(true);
        st.execute(vacuum);
      } catch (SQLException e) {
        Log.info("ceiling: vacuum failed: " + e.getMessage());
      } finally {
        vacuuming.set(false);
      }
    }, "ceiling-vacuum");
    vacuums.add(t);
    t.start();
  }

  private void loop(Connection c, int batch, long total, AtomicLong done, Latencies claims, Latencies acks)
      throws SQLException, InterruptedException {
    try (PreparedStatement cs = c.prepareStatement(claim.sql());
         PreparedStatement as = c.prepareStatement(archive.sql())) {
      long[] ids = new long[batch];
      String[] tokens = new String[batch];
      while (done.get() < total) {
        bindClaim(cs, batch);
        long t0 = System.nanoTime();
        int n = 0;
        try (ResultSet rs = cs.executeQuery()) {
          while (rs.next()) {
            if ("c".equals(rs.getString("kind"))) {
              ids[n] = rs.getLong("id");
              tokens[n] = rs.getString("lease_token");
              rs.getString("payload");
              n++;
            }
          }
        }
        if (n == 0) {
          Thread.sleep(1);
          continue;
        }
        claims.record(System.nanoTime() - t0);
        vacuumAfter(n);
        long t1 = System.nanoTime();
        bindArchive(c, as, ids, tokens, n);
        int archived = as.executeUpdate();
        acks.record(System.nanoTime() - t1);
        done.addAndGet(archived);
      }
    }
  }

  private void bindClaim(PreparedStatement ps, int batch) throws SQLException {
    int[] params = claim.parameters();
    for (int i = 0; i < params.length; i++) {
      int idx = i + 1;
      switch (params[i]) {
        case 1 -> ps.setNull(idx, Types.TIMESTAMP_WITH_TIMEZONE);
        case 2 -> ps.setString(idx, queue);
        case 3 -> ps.setInt(idx, batch);
        case 4 -> ps.setNull(idx, Types.BIGINT);
        case 5 -> ps.setLong(idx, 30_000L);
        default -> throw new IllegalStateException("unexpected claim parameter $" + params[i]);
      }
    }
  }

  private void bindArchive(Connection c, PreparedStatement ps, long[] ids, String[] tokens, int n)
      throws SQLException {
    Long[] idArray = new Long[n];
    String[] tokenArray = new String[n];
    for (int i = 0; i < n; i++) {
      idArray[i] = ids[i];
      tokenArray[i] = tokens[i];
    }
    Array idsSql = c.createArrayOf("bigint", idArray);
    Array tokensSql = c.createArrayOf("text", tokenArray);
    int[] params = archive.parameters();
    for (int i = 0; i < params.length; i++) {
      int idx = i + 1;
      switch (params[i]) {
        case 1 -> ps.setNull(idx, Types.TIMESTAMP_WITH_TIMEZONE);
        case 2 -> ps.setArray(idx, idsSql);
        case 3 -> ps.setArray(idx, tokensSql);
        default -> throw new IllegalStateException("unexpected archive parameter $" + params[i]);
      }
    }
  }

  private static void closeAll(List<Connection> connections) {
    for (Connection c : connections) {
      try {
        c.close();
      } catch (SQLException e) {
        Log.info("ceiling: closing a connection failed: " + e.getMessage());
      }
    }
  }
}
