package io.pgqrs.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * db-scheduler draining one-time tasks. Configured per its README for high throughput: the
 * {@code lock-and-fetch} polling strategy ({@code SELECT ... FOR UPDATE SKIP LOCKED} with the
 * PostgreSQL single-statement customization, chosen automatically) with fractions {@code 1.0, 4.0}
 * ("for high throughput, i.e. keep threads busy"), {@code threads} = consumers, a Hikari pool
 * larger than the thread count, a 1 s polling interval (a full batch triggers the next fetch
 * at once; the interval matters only when idle). Each task carries the ~256-byte JSON payload as
 * its data (a String, Java-serialized by the default serializer). One-time tasks are deleted on
 * completion, so "done" is an empty {@code scheduled_tasks} table.
 */
final class DbSchedulerPeer implements DrainPeer {

  private static final String TABLE = "scheduled_tasks";

  private final Target target;
  private final String schema;
  private final HikariDataSource dataSource;
  private final AtomicLong firstStart = new AtomicLong();
  private final OneTimeTask<String> task;

  DbSchedulerPeer(Target target, int maxConsumers) {
    this.target = target;
    this.schema = target.newSchema("dbs");
    // The table definition from db-scheduler's README (postgresql_tables.sql).
    String s = "\"" + schema + "\".";
    target.execute("""
        CREATE TABLE S.scheduled_tasks (
          task_name text NOT NULL, task_instance text NOT NULL, task_data bytea,
          execution_time timestamp with time zone, picked boolean NOT NULL, picked_by text,
          last_success timestamp with time zone, last_failure timestamp with time zone,
          consecutive_failures int, last_heartbeat timestamp with time zone, version bigint NOT NULL,
          priority smallint, state text,
          PRIMARY KEY (task_name, task_instance))""".replace("S.", s));
    target.execute("CREATE INDEX execution_time_idx ON S.scheduled_tasks (execution_time)".replace("S.", s));
    target.execute("CREATE INDEX last_heartbeat_idx ON S.scheduled_tasks (last_heartbeat)".replace("S.", s));
    target.execute("CREATE INDEX priority_execution_time_idx ON S.scheduled_tasks (priority DESC, execution_time ASC)"
        .replace("S.", s));
    this.dataSource = target.dataSource(schema, maxConsumers + 4, "db-scheduler");
    this.task = Tasks.oneTime("bench-drain", String.class).execute((instance, context) -> {
      firstStart.compareAndSet(0, System.nanoTime());
      if (instance.getData() == null) {
        throw new IllegalStateException("task without payload");
      }
    });
  }

  @Override
  public String name() {
    return "db-scheduler";
  }

  @Override
  public String configuration(int consumers) {
    return "db-scheduler 16.12.0: threads=" + consumers + ", pollUsingLockAndFetch(1.0, 4.0) "
        + "(README: high throughput), pollingInterval=1s, Hikari pool " + (consumers + 4)
        + ", one-time tasks carrying the payload";
  }

  @Override
  public void prefill(long messages) {
    SchedulerClient client = SchedulerClient.Builder.create(dataSource, task).tableName(TABLE).build();
    Instant now = Instant.now();
    int chunk = 1000;
    for (long from = 0; from < messages; from += chunk) {
      List<TaskInstance<?>> batch = new ArrayList<>();
      for (long i = from; i < Math.min(messages, from + chunk); i++) {
        batch.add(task.instance("job-" + i, Payloads.json(i)));
      }
      client.scheduleBatch(batch, now);
    }
    target.execute("VACUUM ANALYZE \"" + schema + "\"." + TABLE);
  }

  @Override
  public Run drain(int consumers, long messages) throws InterruptedException {
    firstStart.set(0);
    Scheduler scheduler = Scheduler.create(dataSource, task)
        .tableName(TABLE)
        .threads(consumers)
        .pollUsingLockAndFetch(1.0, 4.0)
        .pollingInterval(Duration.ofSeconds(1))
        .schedulerName(new SchedulerName.Fixed("pgqrs-bench"))
        .shutdownMaxWait(Duration.ofSeconds(5))
        .build();
    long started = System.nanoTime();
    scheduler.start();
    long remaining = messages;
    long deadline = started + Duration.ofMinutes(30).toNanos();
    long lastReport = started;
    long end;
    try {
      while (remaining > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        remaining = remaining();
        if (System.nanoTime() - lastReport > 10_000_000_000L) {
          Progress.within("db-scheduler", messages - remaining, messages, started);
          lastReport = System.nanoTime();
        }
      }
    } finally {
      end = System.nanoTime();
      scheduler.stop();
    }
    long begin = firstStart.get() == 0 ? started : firstStart.get();
    return new Run(messages - remaining, end - begin);
  }

  private long remaining() {
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM " + TABLE)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException("db-scheduler: counting tasks failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
