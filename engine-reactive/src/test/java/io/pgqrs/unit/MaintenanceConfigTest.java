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
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of the maintenance services' options of {@link PgqrsConfig}: defaults, checks, environment. */
class MaintenanceConfigTest {

  private static final String DSN = "postgresql://app:pw@localhost:5432/appdb";

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  @Test
  void defaultsKeepDeadLettersTwoWeeksRunsAWeekStoppedWorkersADayInBatchesOfAThousand() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).build();

    assertThat(config.deadLetterRetention()).isEqualTo(Duration.ofDays(14));
    assertThat(config.finishedRunRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(config.stoppedWorkerRetention()).isEqualTo(Duration.ofDays(1));
    assertThat(config.maintenanceBatchSize()).isEqualTo(1000);
  }

  @Test
  void builderSetsEveryOptionAndToBuilderKeepsThem() {
    PgqrsConfig config = PgqrsConfig.builder(DSN)
        .deadLetterRetention(Duration.ofDays(3))
        .finishedRunRetention(Duration.ofHours(5))
        .stoppedWorkerRetention(Duration.ZERO)
        .maintenanceBatchSize(50)
        .build();

    assertThat(config.deadLetterRetention()).isEqualTo(Duration.ofDays(3));
    assertThat(config.finishedRunRetention()).isEqualTo(Duration.ofHours(5));
    assertThat(config.stoppedWorkerRetention()).isZero();
    assertThat(config.maintenanceBatchSize()).isEqualTo(50);
    assertThat(config.toBuilder().build()).isEqualTo(config).hasSameHashCodeAs(config);
    assertThat(config).isNotEqualTo(config.toBuilder().maintenanceBatchSize(51).build());
    assertThat(config.toString()).contains("deadLetterRetention=PT72H", "maintenanceBatchSize=50");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"deadLetterRetention", "finishedRunRetention", "stoppedWorkerRetention"})
  void negativeRetentionIsRejectedNamingTheField(String field) {
    PgqrsConfig.Builder b = PgqrsConfig.builder(DSN);
    Duration negative = Duration.ofSeconds(-1);
    switch (field) {
      case "deadLetterRetention" -> b.deadLetterRetention(negative);
      case "finishedRunRetention" -> b.finishedRunRetention(negative);
      default -> b.stoppedWorkerRetention(negative);
    }

    ConfigurationException e = configError(b::build);

    assertThat(e.field()).isEqualTo(field);
    assertThat(e.getMessage()).contains(field, "negative");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(ints = {0, -1, 100_001})
  void batchSizeOutsideOneToAHundredThousandIsRejectedNamingTheField(int size) {
    ConfigurationException e = configError(() -> PgqrsConfig.builder(DSN).maintenanceBatchSize(size).build());

    assertThat(e.field()).isEqualTo("maintenanceBatchSize");
    assertThat(e.getMessage()).contains("maintenanceBatchSize", String.valueOf(size));
  }

  @Test
  void environmentVariablesSetTheOptions() {
    PgqrsConfig config = PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", DSN,
        "PGQRS_DEAD_LETTER_RETENTION", "30d", "PGQRS_FINISHED_RUN_RETENTION", "12h",
        "PGQRS_STOPPED_WORKER_RETENTION", "90m", "PGQRS_MAINTENANCE_BATCH_SIZE", "250"));

    assertThat(config.deadLetterRetention()).isEqualTo(Duration.ofDays(30));
    assertThat(config.finishedRunRetention()).isEqualTo(Duration.ofHours(12));
    assertThat(config.stoppedWorkerRetention()).isEqualTo(Duration.ofMinutes(90));
    assertThat(config.maintenanceBatchSize()).isEqualTo(250);
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
      "PGQRS_DEAD_LETTER_RETENTION, soon",
      "PGQRS_FINISHED_RUN_RETENTION, -1s",
      "PGQRS_STOPPED_WORKER_RETENTION, 1 fortnight",
      "PGQRS_MAINTENANCE_BATCH_SIZE, many",
      "PGQRS_MAINTENANCE_BATCH_SIZE, 0"})
  void invalidEnvironmentVariableIsRejectedNamingTheVariable(String variable, String value) {
    ConfigurationException e = configError(() -> PgqrsConfig.fromEnvironment(Map.of("PGQRS_DSN", DSN, variable, value)));

    assertThat(e.field()).isEqualTo(variable);
    assertThat(e.getMessage()).contains(variable);
  }
}
