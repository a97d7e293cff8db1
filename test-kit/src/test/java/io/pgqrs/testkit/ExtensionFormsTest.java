package io.pgqrs.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The extension's declarative and programmatic forms, and their combination. */
class ExtensionFormsTest {

  private static final Duration T = Duration.ofSeconds(20);

  @Nested
  @ExtendWith(PgqrsExtension.class)
  class PlainExtendWith {
    Store store;

    @Test
    void givesAFreshInstalledSqliteMemoryStore(PgqrsTestKit kit) {
      assertThat(store).isSameAs(kit.store());
      assertThat(kit.backend()).isEqualTo(Backend.SQLITE_MEMORY);
      assertThat(store.queues().list().collectList().block(T)).isEmpty();
      store.queues().create("mine").block(T);
    }

    @Test
    void anotherTestSeesNothingOfTheFirst(Store s) {
      assertThat(s.queues().list().collectList().block(T)).isEmpty();
    }
  }

  @Nested
  @PgqrsTest
  class AnnotationAndRegisteredExtension {
    @RegisterExtension
    final PgqrsExtension pgqrs = PgqrsExtension.builder()
        .config(b -> b.leaseDuration(Duration.ofMinutes(7)))
        .build();

    @Test
    void theRegisteredExtensionServesTheTestAlone(Store store) {
      assertThat(store.config().leaseDuration()).isEqualTo(Duration.ofMinutes(7));
      assertThat(store.config().clock()).isInstanceOf(TestClock.class);
    }
  }
}
