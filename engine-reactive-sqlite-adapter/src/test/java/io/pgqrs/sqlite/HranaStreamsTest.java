package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.StoreOperationException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The Hrana executor against a server with real streams (batons, {@code close}), as sqld and Turso
 * Cloud have: transactions on their own stream, every stream closed, nothing left holding the lock.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HranaStreamsTest {

  private static final Duration T = Duration.ofSeconds(30);

  @RegisterExtension
  static final FakeHranaServer SERVER = new FakeHranaServer();

  private HranaExecutor db;

  @BeforeAll
  void connect() {
    db = HranaExecutor.connect(SERVER.url(), null, "the streams database", Duration.ofSeconds(5), T).block(T);
    db.transaction("setup", s -> s.script(List.of(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY)",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                + " parent INTEGER REFERENCES parents (id) ON DELETE CASCADE)",
            "CREATE TABLE numbers (x INTEGER NOT NULL)",
            "INSERT INTO numbers (x) SELECT value FROM json_each('["
                + IntStream.range(0, 300).mapToObj(Integer::toString).collect(Collectors.joining(",")) + "]')"))
        .thenReturn(true)).block(T);
  }

  @AfterAll
  void close() {
    if (db != null) {
      db.close().block(T);
    }
  }

  @AfterEach
  void everyStreamIsClosed() {
    assertThat(SERVER.openStreams()).isZero();
  }

  private long count(String name) {
    return db.statements("count", s -> s.query("SELECT count(*) AS n FROM items WHERE name = ?", name))
        .map(rows -> rows.get(0).longValue("n")).block(T);
  }

  @Test
  void aServerWithBatonsIsUsedWithStreams() {
    assertThat(db.mode()).isEqualTo(HranaExecutor.Mode.STREAMS);
  }

  @Test
  void aTransactionRunsOnOneStreamAndCommits() {
    int before = SERVER.streamsOpened();
    Long changed = db.transaction("insert", s -> s.update("INSERT INTO items (name) VALUES ('a'), ('b')")
        .flatMap(n -> s.update("UPDATE items SET name = name || '!' WHERE name IN ('a', 'b')").map(m -> n + m)))
        .block(T);
    assertThat(changed).isEqualTo(4);
    assertThat(SERVER.streamsOpened() - before).isEqualTo(1);
    assertThat(count("a!")).isEqualTo(1);
  }

  @Test
  void foreignKeysAreEnforcedOnEveryStream() {
    db.statements("parent", s -> s.update("INSERT INTO parents (id) VALUES (1)")).block(T);
    db.statements("child", s -> s.update("INSERT INTO items (name, parent) VALUES ('child', 1)")).block(T);
    assertThatThrownBy(() -> db.statements("orphan", s -> s.update("INSERT INTO items (name, parent) VALUES ('o', 9)"))
        .block(T)).isInstanceOf(StoreOperationException.class).hasMessageContaining("FOREIGN KEY");
    db.transaction("delete parent", s -> s.update("DELETE FROM parents WHERE id = 1")).block(T);
    assertThat(count("child")).isZero();
  }

  @Test
  void aFailedStatementRollsBackAndClosesTheStream() {
    db.statements("insert", s -> s.update("INSERT INTO items (name) VALUES ('dup')")).block(T);
    assertThatThrownBy(() -> db.transaction("insert twice", s -> s.update("INSERT INTO items (name) VALUES ('one')")
            .then(s.update("INSERT INTO items (name) VALUES ('dup')"))).block(T))
        .isInstanceOf(StoreOperationException.class)
        .hasMessageContaining("insert twice");
    assertThat(count("one")).isZero();
  }

  @Test
  void aTransactionCancelledDuringAStatementIsRolledBackOnItsStream() throws Exception {
    CountDownLatch inserted = new CountDownLatch(1);
    AnswerGate slowQuery = SERVER.holdAnswerTo("numbers a, numbers b");
    Disposable running = db.transaction("slow", s -> s.update("INSERT INTO items (name) VALUES ('in flight')")
            .doOnNext(n -> inserted.countDown())
            .then(s.query("SELECT count(*) AS n FROM numbers a, numbers b, numbers c")))
        .subscribe();
    assertThat(inserted.await(10, TimeUnit.SECONDS)).isTrue();
    // The query has reached the server, which holds it unanswered: it is in flight for certain.
    slowQuery.arrived().block(T);
    running.dispose();
    slowQuery.release();
    // The server has no busy timeout: a stream still holding the write lock would fail this at once.
    assertThat(db.transaction("after", s -> s.update("INSERT INTO items (name) VALUES ('after')")).block(T))
        .isEqualTo(1);
    assertThat(count("in flight")).isZero();
  }

  @Test
  void manyCancelledUnitsLeaveNoStreamBehind() {
    Flux.range(0, 100)
        .flatMap(i -> db.transaction("queued", s -> s.update("INSERT INTO items (name) VALUES (?)", "queued " + i)
                .then(s.query("SELECT count(*) AS n FROM items")))
            .timeout(Duration.ofMillis(i % 7), Mono.empty()), 16)
        .then()
        .block(T);
    assertThat(db.transaction("works", s -> s.update("INSERT INTO items (name) VALUES ('still works')")).block(T))
        .isEqualTo(1);
  }
}
