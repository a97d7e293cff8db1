package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Producer;
import io.pgqrs.testing.PostgresDatabase;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Enqueues and triggers in the caller's own R2DBC transaction: a business row and the job commit
 * together or not at all, and nothing is woken (in this engine or another) before the caller
 * commits. Consumers and workers here poll every ten minutes, so only a wake-up explains a prompt
 * delivery.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresTransactionalEnqueueTest {

  private static final Duration T = Duration.ofSeconds(30);
  /** Far beyond every bound of these tests: a delivery within them was woken, not polled. */
  private static final Duration NEVER_POLL = Duration.ofMinutes(10);
  private static final AtomicInteger NAMES = new AtomicInteger();

  private final PostgresDatabase.Target db;
  private Store store;
  /** Another engine on the same schema, standing for every other process. */
  private Store other;
  private String orders;
  /** The caller's connections a test has not committed or rolled back yet. */
  private final List<Connection> unfinished = new java.util.concurrent.CopyOnWriteArrayList<>();

  PostgresTransactionalEnqueueTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void connect() {
    store = Pgqrs.connect(PgqrsConfig.builder(db.dsn()).pollInterval(NEVER_POLL).build()).block(T);
    store.admin().install().block(T);
    other = Pgqrs.connect(db.dsn()).block(T);
    orders = "\"" + db.schema() + "\".orders";
    Connection c = open();
    try {
      run(c, "CREATE TABLE " + orders + " (id bigserial PRIMARY KEY, note text NOT NULL)");
    } finally {
      close(c);
    }
  }

  @AfterAll
  void close() {
    other.close().block(T);
    store.close().block(T);
  }

  /** A failed test must not leave a transaction open: its locks would keep the schema from being dropped. */
  @AfterEach
  void rollBackWhatATestLeftOpen() {
    for (Connection c : unfinished) {
      Mono.from(c.rollbackTransaction()).onErrorResume(e -> Mono.empty()).then(Mono.from(c.close()))
          .onErrorResume(e -> Mono.empty()).block(T);
    }
    unfinished.clear();
  }

  // ---------------------------------------------------------------- the caller's side

  private Connection open() {
    return Mono.from(db.adminConnectionFactory().create()).block(T);
  }

  /** A connection in a transaction the caller began. */
  private Connection begun() {
    Connection c = open();
    unfinished.add(c);
    Mono.from(c.beginTransaction()).block(T);
    return c;
  }

  private void commit(Connection c) {
    unfinished.remove(c);
    try {
      Mono.from(c.commitTransaction()).block(T);
    } finally {
      close(c);
    }
  }

  private void rollback(Connection c) {
    unfinished.remove(c);
    try {
      Mono.from(c.rollbackTransaction()).block(T);
    } finally {
      close(c);
    }
  }

  private static void close(Connection c) {
    Mono.from(c.close()).block(T);
  }

  private static long run(Connection c, String text, Object... args) {
    var statement = c.createStatement(text);
    for (int i = 0; i < args.length; i++) {
      statement.bind(i, args[i]);
    }
    return Flux.from(statement.execute()).flatMap(r -> Mono.from(r.getRowsUpdated())).reduce(0L, Long::sum).block(T);
  }

  private void insertOrder(Connection c, String note) {
    assertThat(run(c, "INSERT INTO " + orders + " (note) VALUES ($1)", note)).isEqualTo(1);
  }

  /** A count, read on a fresh connection: what every other session sees. */
  private long count(String text, Object... args) {
    return Mono.usingWhen(db.adminConnectionFactory().create(), c -> {
          var statement = c.createStatement(text);
          for (int i = 0; i < args.length; i++) {
            statement.bind(i, args[i]);
          }
          return Flux.from(statement.execute()).flatMap(r -> r.map((row, m) -> row.get(0, Long.class))).single();
        }, Connection::close)
        .block(T);
  }

  private long ordersNoted(String note) {
    return count("SELECT count(*) FROM " + orders + " WHERE note = $1", note);
  }

  private long messages(List<Long> ids) {
    return count("SELECT count(*) FROM \"" + db.schema() + "\".pgqrs_messages WHERE id = ANY($1)",
        (Object) ids.toArray(Long[]::new));
  }

  private String newQueue() {
    String queue = "tx_q" + NAMES.incrementAndGet();
    store.queues().create(queue).block(T);
    return queue;
  }

  /** The queue's wake-ups in this engine, recorded from after its LISTEN is in place. */
  private Queue<String> listening(String queue, List<Disposable> subscriptions) {
    Queue<String> woken = new ConcurrentLinkedQueue<>();
    AtomicInteger listens = new AtomicInteger();
    // The first wake-up follows the LISTEN (and covers the gap before it): not a commit's.
    subscriptions.add(((Engine) store).driver().wakeups(queue).subscribe(q -> {
      if (listens.getAndIncrement() > 0) {
        woken.add(q);
      }
    }));
    io.pgqrs.testing.StateWait.until("the LISTEN of " + queue + " is in place", T,
        () -> Mono.fromSupplier(() -> listens.get() > 0));
    return woken;
  }

  // ---------------------------------------------------------------- enqueue

  @Test
  void aRollbackLeavesNeitherTheBusinessRowNorTheMessageAndACommitKeepsBoth() {
    String queue = newQueue();
    Producer producer = store.producer(queue).build();

    Connection rolledBack = begun();
    insertOrder(rolledBack, "lost");
    long lost = producer.inTransaction(rolledBack).enqueue(Map.of("order", "lost")).block(T);
    rollback(rolledBack);
    assertThat(ordersNoted("lost")).isZero();
    assertThat(messages(List.of(lost))).as("the message rolled back with the caller").isZero();

    Connection committed = begun();
    insertOrder(committed, "kept");
    long kept = producer.inTransaction(committed).enqueue(Map.of("order", "kept")).block(T);
    assertThat(messages(List.of(kept))).as("not visible before the caller commits").isZero();
    commit(committed);
    assertThat(ordersNoted("kept")).isEqualTo(1);
    List<Message> claimed = other.messages().claim(queue, 10).block(T);
    assertThat(claimed).extracting(Message::id).containsExactly(kept);
    assertThat(claimed.get(0).payload().get("order").asText()).isEqualTo("kept");
  }

  @Test
  void anIdleConsumerIsWokenByTheCallersCommitAndNotBefore() {
    String queue = newQueue();
    List<Disposable> subscriptions = new java.util.ArrayList<>();
    try {
      Queue<String> woken = listening(queue, subscriptions);
      Queue<Delivery> delivered = new ConcurrentLinkedQueue<>();
      subscriptions.add(store.consumer(queue).pollInterval(NEVER_POLL).wakeups(true).build().deliveries()
          .subscribe(delivered::add));
      // A first message, committed on its own, proves the consumer subscribed and past its first claim.
      long warmUp = store.producer(queue).build().enqueue(Map.of("order", "warm-up")).block(T);
      io.pgqrs.testing.StateWait.until("the warm-up is delivered", T,
          () -> Mono.fromSupplier(() -> delivered.stream().anyMatch(d -> d.message().id() == warmUp)));
      delivered.poll().ack().block(T);
      // The warm-up's own NOTIFY may come after its delivery: let it in before counting.
      io.pgqrs.testing.StateWait.until("the warm-up's wake-up arrives", T, () -> Mono.fromSupplier(() -> !woken.isEmpty()));
      woken.clear();

      Connection c = begun();
      insertOrder(c, "woken");
      long id = store.producer(queue).build().inTransaction(c).enqueue(Map.of("order", "woken")).block(T);
      assertThat(woken).as("no wake-up in this engine before the caller commits").isEmpty();
      assertThat(other.messages().claim(queue, 10).block(T)).as("not claimable before the commit").isEmpty();
      assertThat(delivered).as("not delivered before the commit").isEmpty();
      commit(c);
      io.pgqrs.testing.StateWait.until("the message is delivered after the commit", T,
          () -> Mono.fromSupplier(() -> delivered.stream().anyMatch(d -> d.message().id() == id)));
      assertThat(woken).as("the commit's NOTIFY woke the consumer").containsExactly(queue);
      delivered.poll().ack().block(T);
    } finally {
      subscriptions.forEach(Disposable::dispose);
    }
  }

  @Test
  void aBatchCommitsOrRollsBackWithTheCaller() {
    String queue = newQueue();
    Producer producer = store.producer(queue).build();
    List<NewMessage> batch = List.of(NewMessage.of(Map.of("n", 1)), NewMessage.of(Map.of("n", 2)),
        NewMessage.of(Map.of("n", 3)));

    Connection rolledBack = begun();
    insertOrder(rolledBack, "batch-lost");
    List<Long> lost = producer.inTransaction(rolledBack).enqueueBatch(batch).block(T);
    assertThat(lost).hasSize(3);
    rollback(rolledBack);
    assertThat(ordersNoted("batch-lost")).isZero();
    assertThat(messages(lost)).isZero();

    Connection committed = begun();
    insertOrder(committed, "batch-kept");
    List<Long> kept = producer.inTransaction(committed).enqueuePayloads(List.of(Map.of("n", 4), Map.of("n", 5)))
        .block(T);
    commit(committed);
    assertThat(ordersNoted("batch-kept")).isEqualTo(1);
    assertThat(other.messages().claim(queue, 10).block(T)).extracting(Message::id).containsExactlyElementsOf(kept);
  }

  @Test
  void dedupKeysHoldInsideTheCallersTransaction() {
    String queue = newQueue();
    Producer producer = store.producer(queue).build();
    long live = producer.enqueue(NewMessage.of(Map.of("n", 0)).withDedupKey("live")).block(T);

    Connection c = begun();
    Producer bound = producer.inTransaction(c);
    long first = bound.enqueue(NewMessage.of(Map.of("n", 1)).withDedupKey("fresh")).block(T);
    assertThat(bound.enqueue(NewMessage.of(Map.of("n", 2)).withDedupKey("fresh")).block(T))
        .as("the key taken earlier in the same transaction").isEqualTo(first);
    assertThat(bound.enqueueBatch(List.of(NewMessage.of(Map.of("n", 3)).withDedupKey("live"),
            NewMessage.of(Map.of("n", 4)).withDedupKey("fresh"))).block(T))
        .as("keys live outside and inside the transaction").containsExactly(live, first);
    commit(c);
    assertThat(other.messages().claim(queue, 10).block(T)).extracting(Message::id).containsExactly(live, first);
  }

  @Test
  void aConnectionInAutocommitModeIsRefusedAndNothingIsWritten() {
    String queue = newQueue();
    Workflow<String, String> workflow = store.runs().register(Workflows.define("tx_wf" + NAMES.incrementAndGet(),
        String.class, String.class, (ctx, in) -> Mono.just(in))).block(T);
    Connection c = open();
    try {
      StepVerifier.create(store.producer(queue).build().inTransaction(c).enqueue(Map.of("n", 1)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class)
              .satisfies(i -> assertThat(((InvalidArgumentException) i).argument()).isEqualTo("connection")))
          .verify(T);
      StepVerifier.create(workflow.inTransaction(c).trigger("x"))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(InvalidArgumentException.class)
              .satisfies(i -> assertThat(((InvalidArgumentException) i).argument()).isEqualTo("connection")))
          .verify(T);
    } finally {
      close(c);
    }
    assertThat(other.messages().claim(queue, 10).block(T)).isEmpty();
    assertThat(count("SELECT count(*) FROM \"" + db.schema() + "\".pgqrs_runs WHERE workflow = $1",
        workflow.definition().name())).isZero();
  }

  // ---------------------------------------------------------------- trigger

  @Test
  void aTriggerRunsOnlyIfTheCallerCommitsAndItsResultComes() {
    Workflow<String, String> workflow = store.runs().register(Workflows.define("tx_wf" + NAMES.incrementAndGet(),
        String.class, String.class, (ctx, in) -> ctx.step("echo", String.class, () -> Mono.just("done " + in))))
        .block(T);
    String queue = workflow.definition().queue();
    List<Disposable> subscriptions = new java.util.ArrayList<>();
    // Listened to before the worker starts: the wake that follows the LISTEN comes only to the
    // subscribers in place when it is done, and the worker's own subscription may be done first.
    Queue<String> woken = listening(queue, subscriptions);
    // A worker of this engine with room: the plain trigger's fast path would hand it the run at once.
    WorkflowWorker worker = workflow.worker().concurrency(2).pollInterval(NEVER_POLL).start();
    try {
      Connection rolledBack = begun();
      insertOrder(rolledBack, "run-lost");
      RunHandle<String> lost = workflow.inTransaction(rolledBack).trigger("lost").block(T);
      assertThat(woken).as("no wake-up in this engine before the caller commits").isEmpty();
      rollback(rolledBack);
      assertThat(ordersNoted("run-lost")).isZero();
      assertThat(count("SELECT count(*) FROM \"" + db.schema() + "\".pgqrs_runs WHERE id = $1", lost.runId()))
          .isZero();

      Connection committed = begun();
      insertOrder(committed, "run-kept");
      Workflow<String, String> bound = workflow.inTransaction(committed);
      RunHandle<String> kept = bound.trigger("kept", "key-1").block(T);
      assertThat(bound.trigger("again", "key-1").block(T).runId())
          .as("the idempotency key taken earlier in the same transaction").isEqualTo(kept.runId());
      assertThat(woken).as("no wake-up in this engine before the caller commits").isEmpty();
      assertThat(other.messages().claim(queue, 10).block(T)).as("not claimable before the commit").isEmpty();
      commit(committed);
      assertThat(ordersNoted("run-kept")).isEqualTo(1);
      StepVerifier.create(kept.result()).expectNext("done kept").expectComplete().verify(T);
      assertThat(woken).as("the commit's NOTIFY woke the worker").containsExactly(queue);
      assertThat(workflow.trigger("later", "key-1").block(T).runId()).isEqualTo(kept.runId());
    } finally {
      subscriptions.forEach(Disposable::dispose);
      worker.stop().block(T);
    }
  }
}
