package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.StoreContract;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

/**
 * A cancel that arrives while the run's worker records a wait and releases the run's message ends
 * the run, at once or at the worker's next boundary, never later. The control used to read
 * whether a worker held the message in the statement that waited for the run's lock, which sees
 * every table but the run as of before that wait: a message released meanwhile looked held, the run
 * went CANCELLING with nobody left to end it, and it stayed so until its wait ran out (an hour here).
 */
@ExtendWith(PostgresDatabase.class)
class PostgresCancelWhileSuspendingTest extends StoreContract {
  private final PostgresDatabase.Target database;
  PostgresCancelWhileSuspendingTest(PostgresDatabase.Target database) { this.database = database; }
  @Override protected Store openStore() { return Pgqrs.connect(database.dsn()).block(T); }

  @Test
  void aCancelRacingTheWorkersSuspendStillEndsTheRun() {
    Workflow<String, String> wf = store.runs().register(Workflows.define("cs", String.class, String.class,
        (ctx, in) -> ctx.step("charge", String.class, () -> Mono.just("paid"))
            .flatMap(p -> ctx.awaitSignal("go", String.class, Duration.ofHours(1)).map(g -> p + g)))
        .withStepOptions(StepOptions.noRetries()).withWorkflowRetries(StepOptions.noRetries())).block(T);
    WorkflowWorker w = wf.worker().concurrency(2).start();
    int stuck = 0;
    // Each cancel lands right after the wait is recorded: before, during or after the suspend.
    for (int i = 0; i < 30; i++) {
      long id = wf.trigger("x").block(T).runId();
      store.runs().steps(id).filter(s -> s.status() == StepStatus.WAITING).next()
          .repeatWhenEmpty(p -> p.delayElements(Duration.ofMillis(1))).block(T);
      RunStatus first = store.runs().cancel(id, "c").block(T).status();
      try {
        wf.run(id).result().onErrorResume(e -> Mono.just("x")).block(T);
      } catch (IllegalStateException timeout) {
        stuck++;
        System.out.println("run " + id + " (cancel answered " + first + ") did not end: "
            + store.runs().get(id).block(T));
      }
    }
    w.stop().block(T);
    assertThat(stuck).as("runs left CANCELLING").isZero();
  }
}
