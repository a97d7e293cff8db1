package io.pgqrs.bench;

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
 * it runs on JDK 17) running the three-step workflow on the same PostgreSQL, its system tables in
 * a fresh schema. Configured for throughput as its documentation describes in-process use: a
 * workflow interface registered with {@code registerProxy}, steps run with {@code runStep}, runs
 * started with {@code startWorkflow} and awaited with {@code getResult()}, the defaults otherwise.
 * Runs are started directly rather than through a DBOS queue, because a queue adds its polling
 * interval (1 s by default) to every run; this is DBOS's fastest path. The workers count is the
 * number of runs in flight at once (the callers block on {@code getResult()} on a bounded pool of
 * that size).
 */
final class DbosWorkflowSubject implements WorkflowSubject {

  /** The workflow's interface: DBOS proxies it. Public, because DBOS builds a JDK proxy of it. */
  public interface ThreeSteps {

    /**
     * Runs the three steps.
     *
     * @param input the run's input
     * @return {@code input + ":1:2:3"}
     */
    String run(String input);
  }

  /** The workflow: three recorded steps. Public, because DBOS invokes it reflectively. */
  public static final class ThreeStepsImpl implements ThreeSteps {

    private final DBOS dbos;

    ThreeStepsImpl(DBOS dbos) {
      this.dbos = dbos;
    }

    @Override
    @Workflow(name = "three-steps")
    public String run(String input) {
      String a = dbos.runStep(() -> input + ":1", "step-1");
      String b = dbos.runStep(() -> a + ":2", "step-2");
      return dbos.runStep(() -> b + ":3", "step-3");
    }
  }

  private @Nullable DBOS dbos;
  private @Nullable ThreeSteps proxy;
  private @Nullable Scheduler callers;
  private int workers;

  @Override
  public String name() {
    return "dbos";
  }

  @Override
  public void setup(WorkflowTarget target, int workers) {
    if (target.jdbcUrl() == null) {
      throw new IllegalArgumentException("DBOS needs PostgreSQL");
    }
    this.workers = workers;
    DBOSConfig config = DBOSConfig.defaults("pgqrs-bench")
        .withDatabaseUrl(target.jdbcUrl())
        .withDbUser(Objects.requireNonNullElse(target.user(), "postgres"))
        .withDbPassword(Objects.requireNonNullElse(target.password(), ""))
        .withDatabaseSchema(target.schema());
    DBOS d = new DBOS(config);
    ThreeSteps p = d.registerProxy(ThreeSteps.class, new ThreeStepsImpl(d));
    d.launch();
    this.dbos = d;
    this.proxy = p;
    this.callers = Schedulers.newBoundedElastic(workers, 100_000, "dbos-callers");
  }

  @Override
  public String configuration() {
    return "DBOS Transact " + DBOS.version() + ": startWorkflow (no queue) + getResult from " + workers
        + " callers, runStep x3, registerProxy, system tables in their own schema";
  }

  @Override
  public Mono<String> run(String input) {
    DBOS d = Objects.requireNonNull(dbos, "setup first");
    ThreeSteps p = Objects.requireNonNull(proxy, "setup first");
    Scheduler s = Objects.requireNonNull(callers, "setup first");
    return Mono.fromCallable(() -> d.startWorkflow(() -> p.run(input)).getResult()).subscribeOn(s);
  }

  @Override
  public void close() {
    if (dbos != null) {
      dbos.close();
      dbos = null;
    }
    if (callers != null) {
      callers.dispose();
      callers = null;
    }
  }
}
