package io.pgqrs.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.workflow.Workflow;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * DBOS Transact Java ({@code dev.dbos:transact} 1.1.0-m6, the newest the package mirror serves;
 * it runs on JDK 17) running the same workflow on the same PostgreSQL, its system tables in a
 * fresh schema. Configured for throughput as its documentation describes in-process use: a
 * workflow interface registered with {@code registerProxy}, steps run with {@code runStep}, runs
 * started with {@code startWorkflow} and awaited with {@code getResult()}, the defaults otherwise.
 * Runs are started directly rather than through a DBOS queue, because a queue adds its polling
 * interval (1 s by default) to every run; this is DBOS's fastest path.
 *
 * <p>The workers count W is the number of runs in flight at once: the callers block on
 * {@code getResult()} on a bounded pool of W threads, and DBOS executes the runs on its own
 * executor (on JDK 17 a fixed pool of 50 threads per CPU, more than any W measured). DBOS's own
 * Hikari pool has 10 connections; so that W up to 64 is not capped by it, the subject hands DBOS a
 * Hikari pool of the scenario's size (W + 8, at least 10: the same as pgqrs's pool) with DBOS's own
 * settings otherwise (those of its {@code SystemDatabase.createDataSource}).
 */
final class DbosWorkflowSubject implements WorkflowSubject {

  /** The workflow's interface: DBOS proxies it. Public, because DBOS builds a JDK proxy of it. */
  public interface Steps {

    /**
     * Runs the steps.
     *
     * @param input the run's input
     * @return {@code input + ":1:...:S"}
     */
    String run(String input);
  }

  /** The workflow: S recorded steps. Public, because DBOS invokes it reflectively. */
  public static final class StepsImpl implements Steps {

    private final DBOS dbos;
    private final int steps;

    StepsImpl(DBOS dbos, int steps) {
      this.dbos = dbos;
      this.steps = steps;
    }

    @Override
    @Workflow(name = "steps")
    public String run(String input) {
      String result = input;
      for (int i = 1; i <= steps; i++) {
        String previous = result;
        String suffix = ":" + i;
        result = dbos.runStep(() -> previous + suffix, "step-" + i);
      }
      return result;
    }
  }

  private @Nullable DBOS dbos;
  private @Nullable HikariDataSource pool;
  private @Nullable Steps proxy;
  private @Nullable Scheduler callers;
  private int workers;
  private int steps;
  private int poolSize;

  @Override
  public String name() {
    return "dbos";
  }

  @Override
  public void setup(WorkflowTarget target, int workers, int steps) {
    String url = target.jdbcUrl();
    if (url == null) {
      throw new IllegalArgumentException("DBOS needs PostgreSQL");
    }
    this.workers = workers;
    this.steps = steps;
    this.poolSize = target.poolSize();
    String user = Objects.requireNonNullElse(target.user(), "postgres");
    String password = Objects.requireNonNullElse(target.password(), "");
    HikariDataSource ds = new HikariDataSource(hikari(url, user, password, poolSize, target.applicationName()));
    this.pool = ds;
    DBOSConfig config = DBOSConfig.defaults("pgqrs-bench")
        .withDatabaseUrl(url)
        .withDbUser(user)
        .withDbPassword(password)
        .withDataSource(ds)
        .withDatabaseSchema(target.schema());
    DBOS d = new DBOS(config);
    this.dbos = d;
    Steps p = d.registerProxy(Steps.class, new StepsImpl(d, steps));
    d.launch();
    this.proxy = p;
    this.callers = Schedulers.newBoundedElastic(workers, 100_000, "dbos-callers");
  }

  /** DBOS's own pool settings ({@code SystemDatabase.createDataSource}), with the given size and name. */
  private static HikariConfig hikari(String url, String user, String password, int size, String applicationName) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(user);
    c.setPassword(password);
    c.setMaxLifetime(60_000);
    c.setKeepaliveTime(30_000);
    c.setConnectionTimeout(10_000);
    c.setValidationTimeout(2_000);
    c.setInitializationFailTimeout(-1);
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(size);
    c.addDataSourceProperty("tcpKeepAlive", "true");
    c.addDataSourceProperty("connectTimeout", "10");
    c.addDataSourceProperty("socketTimeout", "60");
    c.addDataSourceProperty("reWriteBatchedInserts", "true");
    c.addDataSourceProperty("ApplicationName", applicationName);
    c.setPoolName(applicationName);
    return c;
  }

  @Override
  public String configuration() {
    return "DBOS Transact " + DBOS.version() + ": startWorkflow (no queue) + getResult from " + workers
        + " callers, runStep x" + steps + ", registerProxy, system tables in their own schema, Hikari pool of "
        + poolSize + " (DBOS's settings)";
  }

  @Override
  public Mono<String> run(String input) {
    DBOS d = Objects.requireNonNull(dbos, "setup first");
    Steps p = Objects.requireNonNull(proxy, "setup first");
    Scheduler s = Objects.requireNonNull(callers, "setup first");
    return Mono.fromCallable(() -> d.startWorkflow(() -> p.run(input)).getResult()).subscribeOn(s);
  }

  @Override
  public void close() {
    if (dbos != null) {
      dbos.close();
      dbos = null;
    }
    if (pool != null) {
      // DBOS does not close a data source it was given.
      pool.close();
      pool = null;
    }
    if (callers != null) {
      callers.dispose();
      callers = null;
    }
  }
}
