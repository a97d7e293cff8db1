package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.contract.MaintenanceContract;
import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Row;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The maintenance contract on PostgreSQL, plus the background services of several engines. */
@ExtendWith(PostgresDatabase.class)
class PostgresMaintenanceTest extends MaintenanceContract {

  private final PostgresDatabase.Target database;

  PostgresMaintenanceTest(PostgresDatabase.Target database) {
    this.database = database;
  }

  @Override
  protected String dsn() {
    return database.dsn();
  }

  /** The lease rescuer's schedule row: how many turns it took, and when the last one was by the database's clock. */
  private record SweepRow(long runs, Instant lastRunAt) {}

  private <T> T admin(Function<Connection, Mono<T>> work) {
    return Mono.usingWhen(database.adminConnectionFactory().create(), work, Connection::close).block(T);
  }

  private static <T> Mono<T> one(Connection c, String sql, Function<Row, T> mapper) {
    return Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map((row, meta) -> mapper.apply(row))).single();
  }

  private SweepRow sweepRow() {
    return admin(c -> one(c, "SELECT runs, coalesce(last_run_at, '-infinity') AS at FROM pgqrs_sweeps"
        + " WHERE name = 'lease-rescuer'", row -> {
          Instant at = row.get("at", Instant.class);
          return new SweepRow(row.get("runs", Long.class), at == null ? Instant.EPOCH : at);
        }));
  }

  /** Makes every service's schedule due now, whatever the contract's tests left in it. */
  private void makeDue() {
    for (String service : List.of("lease-rescuer", "run-reaper", "archive-cleaner", "retention-cleaner", "scheduler")) {
      driver().takeMaintenanceTurn(new StoreParams.MaintenanceTurn(service, "test", Duration.ZERO, true, null))
          .block(T);
    }
  }

  private WorkerInfo staleWorkerHolding(String queue) {
    WorkerInfo w = driver().registerWorker(new StoreParams.RegisterWorker("pg-stale-" + System.nanoTime(), queue,
        "test-host", 1, Instant.now().minus(STALE.multipliedBy(2)))).block(T);
    assertThat(store.messages().claim(queue, 1, Duration.ofMinutes(5), w.id()).block(T)).hasSize(1);
    return w;
  }

  @Test
  void backgroundRunnersOfThreeEnginesShareOneSchedule() {
    makeDue();
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    List<WorkerInfo> dead = List.of(staleWorkerHolding(q), staleWorkerHolding(q), staleWorkerHolding(q));
    SweepRow before = sweepRow();
    Duration interval = Duration.ofMillis(150);
    List<Store> engines = new ArrayList<>();
    SweepRow first;
    SweepRow last;
    try {
      for (int i = 0; i < 3; i++) {
        engines.add(Pgqrs.connect(config().toBuilder().maintenanceInterval(interval).build()).block(T));
      }
      first = awaitState(this::sweepRow, row -> row.runs() > before.runs());
      last = awaitState(this::sweepRow, row -> row.runs() >= first.runs() + 5);
    } finally {
      engines.forEach(e -> e.close().block(T));
    }
    // Every turn moves the next due time one interval past its own start, so turns that share a
    // schedule are at least an interval apart however many engines take them.
    Duration between = Duration.between(first.lastRunAt(), last.lastRunAt());
    assertThat(between).isGreaterThanOrEqualTo(interval.multipliedBy(last.runs() - first.runs()));
    for (WorkerInfo w : dead) {
      assertThat(store.workers().get(w.id()).block(T).status()).isEqualTo(WorkerStatus.STOPPED);
    }
    List<Message> back = store.messages().claim(q, 10).block(T);
    assertThat(back).hasSize(3).allSatisfy(m -> {
      assertThat(m.attempts()).as("released once, claimed again once").isEqualTo(2);
      assertThat(m.lastError()).endsWith("stopped heartbeating");
    });
  }

  @Test
  void closeWaitsForTheSweepInProgress() throws Exception {
    makeDue();
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    WorkerInfo dead = staleWorkerHolding(q);
    String schema = database.schema();
    Connection blocker = Mono.from(database.adminConnectionFactory().create()).block(T);
    try {
      // Holds the stale worker's row, so the background lease rescuer blocks in the middle of its batch.
      Mono.from(blocker.beginTransaction()).block(T);
      one(blocker, "SELECT id FROM pgqrs_workers WHERE id = " + dead.id() + " FOR UPDATE",
          row -> row.get("id", Long.class)).block(T);
      Store engine = Pgqrs.connect(config().toBuilder().maintenanceInterval(Duration.ofMillis(50)).build()).block(T);
      awaitState(() -> admin(c -> one(c, "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              + " AND query LIKE '%pgqrs_workers w SET status%' AND position('" + schema + "' in query) > 0",
          row -> row.get("n", Long.class))), n -> n > 0);

      CompletableFuture<Void> closed = engine.close().toFuture();
      assertThat(closed).as("close waits while the batch is blocked").isNotDone();
      Mono.from(blocker.commitTransaction()).block(T);
      closed.get(T.toSeconds(), TimeUnit.SECONDS);
    } finally {
      Mono.from(blocker.close()).block(T);
    }
    assertThat(store.workers().get(dead.id()).block(T).status()).as("the batch finished and committed")
        .isEqualTo(WorkerStatus.STOPPED);
  }
}
