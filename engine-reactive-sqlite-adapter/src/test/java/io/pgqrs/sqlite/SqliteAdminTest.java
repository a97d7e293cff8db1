package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** SQLite specifics: install on a file, DSNs, capabilities, the shared in-memory database. */
class SqliteAdminTest {

  private static final Duration T = Duration.ofSeconds(30);

  @Test
  void installVerifyAndUninstallOnAFile() {
    Path file = SqliteStores.newFile();
    Store store = SqliteStores.file(file);
    try {
      StepVerifier.create(store.admin().verify())
          .assertNext(r -> {
            assertThat(r.isValid()).isFalse();
            assertThat(r.missing()).contains("pgqrs_queues", "pgqrs_sweeps");
          })
          .expectComplete().verify(T);
      StepVerifier.create(store.queues().create("q")).expectError(SchemaNotInstalledException.class).verify(T);
      store.admin().install().block(T);
      store.admin().install().block(T);
      StepVerifier.create(store.admin().verify())
          .assertNext(r -> {
            assertThat(r.isValid()).isTrue();
            assertThat(r.installedVersion()).isEqualTo(r.expectedVersion()).isEqualTo(16);
          })
          .expectComplete().verify(T);
      assertThat(Files.exists(file)).isTrue();
      store.admin().uninstall().block(T);
      assertThat(store.admin().verify().block(T).installedVersion()).isZero();
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void capabilitiesDeclareASingleWriterWithoutNotifications() {
    Store store = SqliteStores.newMemoryStore();
    try {
      assertThat(store.capabilities().backend()).isEqualTo("sqlite");
      assertThat(store.capabilities().singleWriter()).isTrue();
      assertThat(store.capabilities().listenNotify()).isFalse();
      assertThat(store.capabilities().skipLocked()).isFalse();
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void memoryDatabaseIsSharedInProcessByName() {
    String dsn = "sqlite::memory:?name=shared_" + System.nanoTime();
    Store a = Pgqrs.connect(dsn).block(T);
    Store b = Pgqrs.connect(dsn).block(T);
    try {
      a.admin().install().block(T);
      a.queues().create("shared").block(T);
      assertThat(b.queues().get("shared").block(T).name()).isEqualTo("shared");
    } finally {
      a.close().block(T);
      b.close().block(T);
    }
  }

  @Test
  void dsnVariantsOpenTheSameFile() throws Exception {
    Path file = SqliteStores.newFile();
    for (String dsn : List.of("sqlite:" + file, "sqlite://" + file, "sqlite:" + file + "?synchronous=full",
        "sqlite:" + file + "?busy_timeout=100")) {
      Store store = Pgqrs.connect(dsn).block(T);
      try {
        store.admin().install().block(T);
        assertThat(store.admin().verify().block(T).isValid()).as(dsn).isTrue();
      } finally {
        store.close().block(T);
      }
    }
  }

  @Test
  void badSqliteDsnsAreRefusedNamingTheDsn() {
    for (String dsn : List.of("sqlite:", "sqlite:x.db?colour=blue", "sqlite:x.db?synchronous=sometimes",
        "sqlite:x.db?busy_timeout=soon", "sqlite::memory:?name=bad;name")) {
      StepVerifier.create(Pgqrs.connect(dsn))
          .expectErrorSatisfies(e -> assertThat(e).as(dsn).isInstanceOfSatisfying(ConfigurationException.class,
              c -> assertThat(c.field()).isEqualTo("dsn")))
          .verify(T);
    }
  }

  @Test
  void unopenableFileFailsWithATransientError() {
    StepVerifier.create(Pgqrs.connect("sqlite:/proc/definitely/not/here.db"))
        .expectError(StoreUnavailableException.class)
        .verify(T);
  }

  @Test
  void enqueueWakesSubscribersOfItsQueueInThisProcess() {
    Store store = SqliteStores.newMemoryStore();
    try {
      store.admin().install().block(T);
      store.queues().create("woken").block(T);
      store.queues().create("quiet").block(T);
      var driver = ((io.pgqrs.internal.Engine) store).driver();
      StepVerifier.create(Flux.merge(driver.wakeups("woken"), driver.wakeups("quiet")))
          .then(() -> store.producer("woken").build().enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2)))
              .block(T))
          .expectNext("woken")
          .then(() -> store.close().block(T))
          .expectComplete()
          .verify(T);
    } finally {
      store.close().block(T);
    }
  }

  @Test
  void closedStoreRefusesWork() {
    Store store = SqliteStores.newMemoryStore();
    store.close().block(T);
    store.close().block(T);
    StepVerifier.create(store.queues().list()).expectError(StoreUnavailableException.class).verify(T);
  }

  @Test
  void twoStoresOnOneFileDrainAQueueExactlyOnce() {
    Path file = SqliteStores.newFile();
    Store a = SqliteStores.file(file);
    Store b = SqliteStores.file(file);
    try {
      a.admin().install().block(T);
      a.queues().create("shared").block(T);
      for (int i = 0; i < 4; i++) {
        a.producer("shared").build().enqueuePayloads(
            java.util.stream.IntStream.range(0, 500).mapToObj(n -> Map.of("n", n)).toList()).block(T);
      }
      List<Long> claimed = Flux.just(a, b, a, b)
          .flatMap(s -> Drain.drain(s, "shared", 25), 4)
          .collectList().block(Duration.ofMinutes(2));
      assertThat(claimed).hasSize(2000).doesNotHaveDuplicates();
      assertThat(a.queues().metrics("shared").block(T).archived()).isEqualTo(2000);
    } finally {
      a.close().block(T);
      b.close().block(T);
    }
  }
}
