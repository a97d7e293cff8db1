package io.pgqrs.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import org.junit.jupiter.api.Test;

/** The kit's patterns on SQLite in memory, through the annotation; parameters resolved too. */
@PgqrsTest
class SqliteKitTest extends KitPatterns {

  @Test
  void parametersAndFieldsAreTheSameTestObjects(Store s, TestClock c, PgqrsTestKit k) {
    assertThat(s).isSameAs(store).isSameAs(k.store());
    assertThat(c).isSameAs(clock).isSameAs(k.clock());
    assertThat(k).isSameAs(kit);
    assertThat(k.backend()).isEqualTo(Backend.SQLITE_MEMORY);
    assertThat(s.capabilities().backend()).isEqualTo("sqlite");
  }
}
