package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import java.time.Duration;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of the pooler mode, the timeouts and the schemas pgqrs refuses. */
class PgqrsConfigPoolerTest {

  private static final String DSN = "postgresql://u@h:6432/db";

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  @Test
  void defaultsAreADirectConnectionWithWakeupsAndTimeouts() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).build();
    assertThat(config.pooler()).isEqualTo(PgqrsConfig.Pooler.NONE);
    assertThat(config.wakeups()).isTrue();
    assertThat(config.statementTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.lockTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aTransactionPoolerInTheDsnTurnsWakeupsOff() {
    PgqrsConfig config = PgqrsConfig.builder(DSN + "?pooler=transaction").build();
    assertThat(config.pooler()).isEqualTo(PgqrsConfig.Pooler.TRANSACTION);
    assertThat(config.wakeups()).isFalse();
    assertThat(config.dsnParameters()).as("consumed, not passed to the driver").isEmpty();
    assertThat(config.toString()).contains("pooler=TRANSACTION", "wakeups=false");
    assertThat(PgqrsConfig.builder(DSN + "?pooler=none").build().wakeups()).isTrue();
    assertThat(config.toBuilder().pooler(PgqrsConfig.Pooler.NONE).build().wakeups()).isTrue();
  }

  @Test
  void wakeupsCannotBeForcedOnBehindATransactionPooler() {
    assertThat(configError(() -> PgqrsConfig.builder(DSN + "?pooler=transaction&wakeups=true").build()).field())
        .isEqualTo("wakeups");
    assertThat(PgqrsConfig.builder(DSN + "?pooler=transaction&wakeups=false").build().wakeups()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"statement", "bouncer", ""})
  void unusablePoolerModesAreRefusedNamingTheDsn(String mode) {
    ConfigurationException e = configError(() -> PgqrsConfig.builder(DSN + "?pooler=" + mode).build());
    assertThat(e.field()).isEqualTo("dsn");
    assertThat(e).hasMessageContaining("pooler");
  }

  @Test
  void timeoutsComeFromTheDsnAndTheEnvironmentAndZeroSetsNone() {
    PgqrsConfig fromDsn = PgqrsConfig.builder(DSN + "?statement_timeout=2m&lock_timeout=0").build();
    assertThat(fromDsn.statementTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(fromDsn.lockTimeout()).isZero();
    PgqrsConfig fromEnv = PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", DSN, "PGQRS_POOLER", "transaction",
        "PGQRS_STATEMENT_TIMEOUT", "0", "PGQRS_LOCK_TIMEOUT", "1500ms"));
    assertThat(fromEnv.pooler()).isEqualTo(PgqrsConfig.Pooler.TRANSACTION);
    assertThat(fromEnv.statementTimeout()).isZero();
    assertThat(fromEnv.lockTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", DSN, "PGQRS_LOCK_TIMEOUT", "soon")))
        .field()).isEqualTo("PGQRS_LOCK_TIMEOUT");
  }

  @Test
  void negativeOrHugeTimeoutsAreRefusedNamingTheField() {
    assertThat(configError(() -> PgqrsConfig.builder(DSN).lockTimeout(Duration.ofSeconds(-1)).build()).field())
        .isEqualTo("lockTimeout");
    assertThat(configError(() -> PgqrsConfig.builder(DSN).statementTimeout(Duration.ofDays(30)).build()).field())
        .isEqualTo("statementTimeout");
  }

  @ParameterizedTest
  @ValueSource(strings = {"information_schema", "pg_catalog", "pg_toast", "pg_temp_3", "pg_toast_temp_1", "pg_mine",
      "PG_CATALOG", "Information_Schema"})
  void systemSchemasAreRefusedNamingSchema(String schema) {
    assertThat(configError(() -> PgqrsConfig.builder(DSN).schema(schema).build()).field()).isEqualTo("schema");
    assertThat(configError(() -> PgqrsConfig.builder(DSN + "?schema=" + schema).build()).field())
        .isEqualTo("schema");
  }

  @ParameterizedTest
  @ValueSource(strings = {"public", "pgqrs", "jobs", "page_jobs", "information"})
  void userSchemasStayAllowed(String schema) {
    assertThat(PgqrsConfig.builder(DSN).schema(schema).build().schema()).isEqualTo(schema);
  }
}
