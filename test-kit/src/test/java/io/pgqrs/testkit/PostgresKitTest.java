package io.pgqrs.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kit's patterns on PostgreSQL ({@code PGQRS_TEST_POSTGRES_URL}), a schema per test, through
 * {@code @RegisterExtension}.
 */
class PostgresKitTest extends KitPatterns {

  @RegisterExtension
  static PgqrsExtension pgqrs = PgqrsExtension.builder().backend(Backend.POSTGRES).build();

  @Test
  void eachTestHasItsOwnSchema() {
    assertThat(kit.backend()).isEqualTo(Backend.POSTGRES);
    assertThat(store.config().schema()).startsWith("pgqrs_tk_");
  }
}
