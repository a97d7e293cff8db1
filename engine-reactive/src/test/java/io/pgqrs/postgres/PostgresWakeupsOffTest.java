package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.testing.PgBouncer;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * With wake-ups off (by {@code wakeups=false}, or implied by {@code pooler=transaction}) nothing
 * LISTENs: neither consumer streams nor {@code result()}, which polls instead.
 */
@ExtendWith(PostgresDatabase.class)
class PostgresWakeupsOffTest {

  private static final Duration T = Duration.ofSeconds(30);

  private final PostgresDatabase.Target database;

  PostgresWakeupsOffTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Test
  void resultsAndConsumersPollWithoutListeningWhenWakeupsAreOff() {
    String application = "nolisten_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    assertNothingListens(database.dsn() + "&wakeups=false&application_name=" + application, application);
  }

  @Test
  void nothingListensBehindATransactionPooler() {
    String application = "pooled_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    assertNothingListens(PgBouncer.dsn(database) + "&application_name=" + application, application);
  }

  private void assertNothingListens(String dsn, String application) {
    Store store = Pgqrs.connect(PgqrsConfig.builder(dsn).pollInterval(Duration.ofMillis(100)).build()).block(T);
    try {
      assertThat(store.config().wakeups()).isFalse();
      store.admin().install().block(T);
      Workflow<String, String> workflow = store.runs().register(
          Workflows.define("echo_" + application, String.class, String.class,
                  (ctx, in) -> ctx.step("echo", String.class, () -> Mono.just(in)))
              .withWorkflowRetries(StepOptions.noRetries())).block(T);
      WorkflowWorker worker = workflow.worker().pollInterval(Duration.ofMillis(100)).start();
      try {
        RunHandle<String> run = workflow.trigger("polled").block(T);
        StepVerifier.create(run.result()).expectNext("polled").expectComplete().verify(T);
        // A second handle on the finished run: its result is looked up, not waited for.
        StepVerifier.create(workflow.run(run.runId()).result()).expectNext("polled").expectComplete().verify(T);
      } finally {
        worker.stop().block(T);
      }
      assertThat(listeningSessions(application)).as("sessions of %s that LISTEN", application).isZero();
    } finally {
      store.close().block(T);
    }
  }

  /** Sessions of the application that are the listener or whose last statement was a LISTEN. */
  private long listeningSessions(String application) {
    String sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1"
        + " AND (application_name LIKE '%-listener' OR query ILIKE 'listen %')";
    return Mono.usingWhen(database.adminConnectionFactory().create(),
            c -> Flux.from(c.createStatement(sql).bind(0, application + "%").execute())
                .flatMap(r -> r.map((row, meta) -> row.get(0, Long.class)))
                .next(),
            Connection::close)
        .block(T);
  }
}
