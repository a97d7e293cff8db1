package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of {@link PgqrsConfig#fromEnvironment(Map)}; no database, no real environment. */
class PgqrsConfigFromEnvironmentTest {

  private static final String DSN = "postgresql://app:pw@localhost:5432/appdb";

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  private static Map<String, String> env(String... keysAndValues) {
    Map<String, String> env = new HashMap<>();
    env.put("PGQRS_DSN", DSN);
    for (int i = 0; i < keysAndValues.length; i += 2) {
      env.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return env;
  }

  @Test
  void missingPgqrsDsnIsRejectedNamingPgqrsDsn() {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_SCHEMA", "jobs")));

    assertThat(e.field()).isEqualTo("PGQRS_DSN");
    assertThat(e.getMessage()).contains("PGQRS_DSN");
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", " ", "\t"})
  void blankPgqrsDsnIsRejectedNamingPgqrsDsn(String dsn) {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", dsn)));

    assertThat(e.field()).isEqualTo("PGQRS_DSN");
  }

  @Test
  void onlyPgqrsDsnGivesTheDefaults() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", DSN));

    assertThat(config).isEqualTo(PgqrsConfig.builder(DSN).build());
  }

  @Test
  void everyVariableIsApplied() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env(
        "PGQRS_SCHEMA", "jobs",
        "PGQRS_POOL_INITIAL_SIZE", "3",
        "PGQRS_POOL_MAX_SIZE", "12",
        "PGQRS_LEASE_DURATION", "45s",
        "PGQRS_POLL_INTERVAL", "250ms",
        "PGQRS_HEARTBEAT_INTERVAL", "PT5S",
        "PGQRS_MAX_ATTEMPTS", "8",
        "PGQRS_ARCHIVE_RETENTION", "7d",
        "PGQRS_CONNECT_TIMEOUT", "2m",
        "PGQRS_MAINTENANCE_INTERVAL", "1m",
        "PGQRS_WORKER_STALE_AFTER", "45s",
        "PGQRS_WAKEUPS", "false"));

    assertThat(config.dsn()).isEqualTo(DSN);
    assertThat(config.schema()).isEqualTo("jobs");
    assertThat(config.poolInitialSize()).isEqualTo(3);
    assertThat(config.poolMaxSize()).isEqualTo(12);
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(45));
    assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.maxAttempts()).isEqualTo(8);
    assertThat(config.archiveRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(config.maintenanceInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.workerStaleAfter()).isEqualTo(Duration.ofSeconds(45));
    assertThat(config.wakeups()).isFalse();
  }

  @Test
  void zeroMaintenanceIntervalIsAccepted() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env("PGQRS_MAINTENANCE_INTERVAL", "0s"));

    assertThat(config.maintenanceInterval()).isZero();
  }

  @ParameterizedTest(name = "PGQRS_WAKEUPS={0}")
  @CsvSource({"true, true", "FALSE, false", "1, true", "0, false", "yes, true", "off, false"})
  void wakeupsVariableAcceptsTheUsualBooleans(String value, boolean expected) {
    assertThat(PgqrsConfig.fromEnvironment(env("PGQRS_WAKEUPS", value)).wakeups()).isEqualTo(expected);
  }

  @Test
  void wakeupsVariableOverridesTheDsnParameter() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env("PGQRS_DSN", DSN + "?wakeups=false", "PGQRS_WAKEUPS", "true"));

    assertThat(config.wakeups()).isTrue();
  }

  @Test
  void variablesOverrideDsnQueryParameters() {
    Map<String, String> env = env(
        "PGQRS_DSN", "postgresql://h/db?schema=fromdsn&pool_initial_size=2&pool_max_size=20",
        "PGQRS_SCHEMA", "fromenv",
        "PGQRS_POOL_MAX_SIZE", "6");

    PgqrsConfig config = PgqrsConfig.fromEnvironment(env);

    assertThat(config.schema()).isEqualTo("fromenv");
    assertThat(config.poolMaxSize()).isEqualTo(6);
    assertThat(config.poolInitialSize()).isEqualTo(2);
  }

  @Test
  void blankOptionalVariablesAreIgnored() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env(
        "PGQRS_SCHEMA", "",
        "PGQRS_POOL_MAX_SIZE", "  ",
        "PGQRS_LEASE_DURATION", "",
        "PGQRS_MAX_ATTEMPTS", "\t"));

    assertThat(config).isEqualTo(PgqrsConfig.builder(DSN).build());
  }

  @Test
  void variableValuesAreTrimmed() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env(
        "PGQRS_DSN", "  " + DSN + "  ",
        "PGQRS_SCHEMA", " jobs ",
        "PGQRS_MAX_ATTEMPTS", " 7 ",
        "PGQRS_LEASE_DURATION", " 45s "));

    assertThat(config.dsn()).isEqualTo(DSN);
    assertThat(config.schema()).isEqualTo("jobs");
    assertThat(config.maxAttempts()).isEqualTo(7);
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(45));
  }

  @Test
  void unrelatedVariablesAreIgnored() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(env("PGQRS_UNKNOWN", "x", "PATH", "/bin", "PGQRS_dsn", "y"));

    assertThat(config).isEqualTo(PgqrsConfig.builder(DSN).build());
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "PGQRS_MAX_ATTEMPTS       | abc",
      "PGQRS_MAX_ATTEMPTS       | 2.5",
      "PGQRS_POOL_INITIAL_SIZE  | two",
      "PGQRS_POOL_MAX_SIZE      | 99999999999",
      "PGQRS_LEASE_DURATION     | soon",
      "PGQRS_LEASE_DURATION     | 30",
      "PGQRS_POLL_INTERVAL      | fast",
      "PGQRS_HEARTBEAT_INTERVAL | 10 seconds",
      "PGQRS_ARCHIVE_RETENTION  | a week",
      "PGQRS_CONNECT_TIMEOUT    | -1s",
      "PGQRS_MAINTENANCE_INTERVAL | often",
      "PGQRS_WORKER_STALE_AFTER | later",
      "PGQRS_WAKEUPS            | maybe"
  })
  void unparseableVariableIsRejectedNamingTheVariable(String variable, String value) {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(env(variable, value)));

    assertThat(e.field()).isEqualTo(variable);
    assertThat(e.getMessage()).contains(variable);
  }

  @Test
  void nonNumericMaxAttemptsIsRejectedNamingPgqrsMaxAttempts() {
    ConfigurationException e =
        configError(() -> PgqrsConfig.fromEnvironment(env("PGQRS_MAX_ATTEMPTS", "abc")));

    assertThat(e.field()).isEqualTo("PGQRS_MAX_ATTEMPTS");
  }

  @Test
  void unparseableLeaseDurationIsRejectedNamingPgqrsLeaseDuration() {
    ConfigurationException e =
        configError(() -> PgqrsConfig.fromEnvironment(env("PGQRS_LEASE_DURATION", "soon")));

    assertThat(e.field()).isEqualTo("PGQRS_LEASE_DURATION");
  }

  @Test
  void invalidSchemaVariableIsRejectedNamingPgqrsSchema() {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(env("PGQRS_SCHEMA", "bad;x")));

    assertThat(e.field()).isEqualTo("PGQRS_SCHEMA");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "PGQRS_SCHEMA             | 1abc",
      "PGQRS_POOL_MAX_SIZE      | 0",
      "PGQRS_POOL_INITIAL_SIZE  | -1",
      "PGQRS_POOL_INITIAL_SIZE  | 11",
      "PGQRS_LEASE_DURATION     | 0s",
      "PGQRS_POLL_INTERVAL      | 0ms",
      "PGQRS_HEARTBEAT_INTERVAL | PT0S",
      "PGQRS_MAX_ATTEMPTS       | 0",
      "PGQRS_ARCHIVE_RETENTION  | PT-1S",
      "PGQRS_CONNECT_TIMEOUT    | 0s",
      "PGQRS_MAINTENANCE_INTERVAL | PT-1S",
      "PGQRS_WORKER_STALE_AFTER | 0s",
      "PGQRS_WORKER_STALE_AFTER | 5s"
  })
  void outOfRangeVariableIsRejectedNamingTheVariable(String variable, String value) {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(env(variable, value)));

    assertThat(e.field()).isEqualTo(variable);
  }

  @ParameterizedTest(name = "PGQRS_DSN={0}")
  @ValueSource(strings = {"mysql://x/y", "postgresql://host", "postgresql://host/db?pool_max_size=abc"})
  void invalidPgqrsDsnIsRejectedNamingPgqrsDsn(String dsn) {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", dsn)));

    assertThat(e.field()).isEqualTo("PGQRS_DSN");
  }

  @Test
  void invalidPgqrsDsnErrorDoesNotRevealThePassword() {
    ConfigurationException e =
        configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", "postgresql://u:secret@h/a/b")));

    assertThat(e.getMessage()).doesNotContain("secret");
  }

  @Test
  void invalidPgqrsDsnIsStillAConfigurationException() {
    ConfigurationException e =
        configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", "mysql://x/y")));

    assertThat(e.field()).isIn("dsn", "PGQRS_DSN");
  }
}
