package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.testing.MovableClock;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A store on a clock of the test's ({@link PgqrsConfig#storeClock()}): ten years ahead of the real
 * time, moved forward by the test. Every time the store records or judges is that clock's, through
 * the public API: no test here passes the SPI's {@code now} itself.
 */
public abstract class StoreClockContract extends StoreContract {

  private static final AtomicInteger NAMES = new AtomicInteger();

  /** The store's clock: ten years ahead, so no time of the database's own clock can pass for it. */
  protected final MovableClock clock = new MovableClock(Duration.ofDays(3650));

  /**
   * The DSN of the database under test.
   *
   * @return the DSN
   */
  protected abstract String dsn();

  @Override
  protected Store openStore() {
    return Pgqrs.connect(PgqrsConfig.builder(dsn()).storeClock(clock).pollInterval(Duration.ofMillis(50))
        .maintenanceInterval(Duration.ZERO).build()).block(T);
  }

  @Test
  void theTimesTheStoreRecordsAndReportsAreItsClocks() {
    String q = newQueue();
    Instant before = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    long id = producer(q).enqueue(payload(1)).block(T);
    Instant after = clock.instant().plusMillis(1);
    Message m = store.messages().get(id).block(T);
    assertThat(m.enqueuedAt()).isBetween(before, after);
    assertThat(m.visibleAt()).isEqualTo(m.enqueuedAt());
    Instant read = driver().currentTime(null).block(T);
    assertThat(read).isBetween(after.minusMillis(1), clock.instant().plusMillis(1));
  }

  @Test
  void aDelayedMessageIsClaimableOnceTheClockPassesItsDelay() {
    String q = newQueue();
    long id = producer(q).enqueue(NewMessage.of(payload(1)).withDelay(Duration.ofHours(1))).block(T);
    assertThat(claim(q, 1)).isEmpty();
    clock.advance(Duration.ofMinutes(59));
    assertThat(claim(q, 1)).as("after 59 minutes").isEmpty();
    clock.advance(Duration.ofMinutes(1).plusSeconds(1));
    assertThat(claim(q, 1)).extracting(Message::id).containsExactly(id);
  }

  @Test
  void aLeaseEndsByTheClockAndItsFirstHolderIsFenced() {
    String q = newQueue();
    long id = producer(q).enqueue(payload(1)).block(T);
    Message first = store.messages().claim(q, 1, Duration.ofSeconds(30), null).block(T).get(0);
    assertThat(first.visibleAt()).isBetween(first.enqueuedAt().plusSeconds(30), clock.instant().plusSeconds(30));
    assertThat(claim(q, 1)).as("while the lease holds").isEmpty();
    clock.advance(Duration.ofSeconds(31));
    List<Message> again = claim(q, 1);
    assertThat(again).extracting(Message::id, Message::attempts).containsExactly(tuple(id, 2));
    assertThat(store.messages().archive(first.lease()).block(T)).as("the first holder's ack").isFalse();
    assertThat(store.messages().archive(again.get(0).lease()).block(T)).isTrue();
  }

  @Test
  void aThreeDaySleepEndsOnceTheClockPassesIt() {
    WorkflowDefinition<String, String> definition = Workflows.define("clock_sleep" + NAMES.incrementAndGet(),
        String.class, String.class, (ctx, in) -> ctx.sleep(Duration.ofDays(3)).thenReturn(in + " rested"));
    Workflow<String, String> workflow = store.runs().register(definition).block(T);
    WorkflowWorker worker = workflow.worker().pollInterval(Duration.ofMillis(50)).start();
    try {
      RunHandle<String> run = workflow.trigger("x").block(T);
      StateWait.until("the sleep is recorded", T, () -> run.steps().filter(s -> s.stepId().equals("pgqrs.sleep"))
          .next(), s -> s.status() == StepStatus.WAITING);
      StateWait.until("the run's message is parked", T, () -> store.messages().list(definition.queue(),
          io.pgqrs.queue.MessageState.LIVE, 0, 10).next(), m -> m.leaseToken() == null);
      clock.advance(Duration.ofDays(3).plusSeconds(1));
      assertThat(run.result().block(T)).isEqualTo("x rested");
      RunInfo info = run.info().block(T);
      assertThat(Duration.between(info.createdAt(), info.finishedAt())).isGreaterThanOrEqualTo(Duration.ofDays(3));
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void aWorkerIsDatedByTheClock() {
    Instant before = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    io.pgqrs.worker.WorkerInfo worker = store.workers().register("clock_worker", newQueue()).block(T);
    assertThat(worker.startedAt()).isBetween(before, clock.instant().plusMillis(1));
    assertThat(worker.heartbeatAt()).isEqualTo(worker.startedAt());
  }
}
