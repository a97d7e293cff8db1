package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.entry;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Pure tests of {@link PgqrsConfig} built from DSNs and builder calls; no database. */
class PgqrsConfigTest {

  private static final String DSN = "postgresql://app:pw@localhost:5432/appdb";

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  // ---------------------------------------------------------------- defaults

  @Test
  void builderWithoutOptionsUsesTheDocumentedDefaults() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).build();

    assertThat(config.dsn()).isEqualTo(DSN);
    assertThat(config.backend()).isEqualTo("postgres");
    assertThat(config.schema()).isEqualTo("public");
    assertThat(config.poolInitialSize()).isEqualTo(1);
    assertThat(config.poolMaxSize()).isEqualTo(10);
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.pollInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.maxAttempts()).isEqualTo(5);
    assertThat(config.archiveRetention()).isEqualTo(Duration.ofDays(7));
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.maintenanceInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.workerStaleAfter()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.wakeups()).isTrue();
    assertThat(config.dsnParameters()).isEmpty();
  }

  @Test
  void defaultConstantsHaveTheDocumentedValues() {
    assertThat(PgqrsConfig.DEFAULT_SCHEMA).isEqualTo("public");
    assertThat(PgqrsConfig.DEFAULT_POOL_INITIAL_SIZE).isEqualTo(1);
    assertThat(PgqrsConfig.DEFAULT_POOL_MAX_SIZE).isEqualTo(10);
    assertThat(PgqrsConfig.DEFAULT_LEASE).isEqualTo(Duration.ofSeconds(30));
    assertThat(PgqrsConfig.DEFAULT_POLL_INTERVAL).isEqualTo(Duration.ofSeconds(1));
    assertThat(PgqrsConfig.DEFAULT_HEARTBEAT_INTERVAL).isEqualTo(Duration.ofSeconds(10));
    assertThat(PgqrsConfig.DEFAULT_MAX_ATTEMPTS).isEqualTo(5);
    assertThat(PgqrsConfig.DEFAULT_ARCHIVE_RETENTION).isEqualTo(Duration.ofDays(7));
    assertThat(PgqrsConfig.DEFAULT_CONNECT_TIMEOUT).isEqualTo(Duration.ofSeconds(10));
    assertThat(PgqrsConfig.DEFAULT_MAINTENANCE_INTERVAL).isEqualTo(Duration.ofSeconds(30));
    assertThat(PgqrsConfig.DEFAULT_STALE_HEARTBEATS).isEqualTo(3);
  }

  @Test
  void everyBuilderOptionIsKept() {
    PgqrsConfig config = PgqrsConfig.builder(DSN)
        .schema("jobs")
        .poolInitialSize(0)
        .poolMaxSize(3)
        .leaseDuration(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(250))
        .heartbeatInterval(Duration.ofSeconds(5))
        .maxAttempts(9)
        .archiveRetention(Duration.ZERO)
        .connectTimeout(Duration.ofMinutes(2))
        .maintenanceInterval(Duration.ofMinutes(5))
        .workerStaleAfter(Duration.ofMinutes(1))
        .wakeups(false)
        .build();

    assertThat(config.schema()).isEqualTo("jobs");
    assertThat(config.poolInitialSize()).isZero();
    assertThat(config.poolMaxSize()).isEqualTo(3);
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(45));
    assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.maxAttempts()).isEqualTo(9);
    assertThat(config.archiveRetention()).isEqualTo(Duration.ZERO);
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(config.maintenanceInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.workerStaleAfter()).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.wakeups()).isFalse();
  }

  // ---------------------------------------------------------------- maintenance and wake-ups

  @Test
  void workerStaleAfterDefaultsToThreeHeartbeats() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).heartbeatInterval(Duration.ofSeconds(5)).build();

    assertThat(config.workerStaleAfter()).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void derivedWorkerStaleAfterFollowsTheHeartbeatThroughToBuilder() {
    PgqrsConfig original = PgqrsConfig.builder(DSN).build();

    PgqrsConfig slower = original.toBuilder().heartbeatInterval(Duration.ofMinutes(1)).build();

    assertThat(slower.workerStaleAfter()).isEqualTo(Duration.ofMinutes(3));
  }

  @Test
  void explicitWorkerStaleAfterIsKeptThroughToBuilder() {
    PgqrsConfig original = PgqrsConfig.builder(DSN).workerStaleAfter(Duration.ofMinutes(2)).build();

    PgqrsConfig copy = original.toBuilder().heartbeatInterval(Duration.ofSeconds(20)).build();

    assertThat(copy.workerStaleAfter()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void zeroMaintenanceIntervalTurnsTheBackgroundSweepsOff() {
    assertThat(PgqrsConfig.builder(DSN).maintenanceInterval(Duration.ZERO).build().maintenanceInterval()).isZero();
  }

  @ParameterizedTest(name = "wakeups={0}")
  @CsvSource({"false, false", "true, true", "0, false", "off, false", "YES, true"})
  void wakeupsDsnParameterIsConsumedAndNotPassedToTheDriver(String value, boolean expected) {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?wakeups=" + value + "&sslmode=disable").build();

    assertThat(config.wakeups()).isEqualTo(expected);
    assertThat(config.dsnParameters()).containsExactly(entry("sslmode", "disable"));
  }

  @Test
  void builderCallOverridesTheWakeupsDsnParameter() {
    assertThat(PgqrsConfig.builder("sqlite::memory:?wakeups=false").wakeups(true).build().wakeups()).isTrue();
  }

  // ---------------------------------------------------------------- DSN query parameters

  @Test
  void dsnQueryParametersPresetSchemaAndPoolSizes() {
    PgqrsConfig config =
        PgqrsConfig.builder("postgresql://h/db?schema=jobs&pool_initial_size=2&pool_max_size=20").build();

    assertThat(config.schema()).isEqualTo("jobs");
    assertThat(config.poolInitialSize()).isEqualTo(2);
    assertThat(config.poolMaxSize()).isEqualTo(20);
  }

  @Test
  void explicitBuilderCallsOverrideDsnQueryParameters() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?schema=jobs&pool_initial_size=2&pool_max_size=20")
        .schema("other")
        .poolInitialSize(4)
        .poolMaxSize(8)
        .build();

    assertThat(config.schema()).isEqualTo("other");
    assertThat(config.poolInitialSize()).isEqualTo(4);
    assertThat(config.poolMaxSize()).isEqualTo(8);
  }

  @Test
  void dsnQueryParametersThatAreAbsentLeaveTheDefaults() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?pool_max_size=20").build();

    assertThat(config.schema()).isEqualTo(PgqrsConfig.DEFAULT_SCHEMA);
    assertThat(config.poolInitialSize()).isEqualTo(PgqrsConfig.DEFAULT_POOL_INITIAL_SIZE);
    assertThat(config.poolMaxSize()).isEqualTo(20);
  }

  @Test
  void dsnQueryParameterValuesArePercentDecoded() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?schema=my%5Fjobs").build();

    assertThat(config.schema()).isEqualTo("my_jobs");
  }

  @Test
  void invalidSchemaFromDsnQueryParameterIsRejectedAtBuildNamingSchema() {
    PgqrsConfig.Builder builder = PgqrsConfig.builder("postgresql://h/db?schema=bad;name");

    assertThat(configError(builder::build).field()).isEqualTo("schema");
  }

  @Test
  void invalidSchemaFromDsnCanBeCorrectedOnTheBuilder() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?schema=bad;name").schema("good").build();

    assertThat(config.schema()).isEqualTo("good");
  }

  @Test
  void dsnParametersReturnsOnlyTheParametersNotConsumedInDsnOrder() {
    PgqrsConfig config = PgqrsConfig.builder(
            "postgresql://h/db?sslmode=require&schema=s&pool_initial_size=1&pool_max_size=4"
                + "&application_name=my%20app&connect_timeout=3")
        .build();

    assertThat(config.dsnParameters())
        .containsExactly(entry("sslmode", "require"), entry("application_name", "my app"),
            entry("connect_timeout", "3"));
  }

  @Test
  void dsnParametersIsEmptyWhenOnlyConsumedParametersAreGiven() {
    PgqrsConfig config =
        PgqrsConfig.builder("postgresql://h/db?schema=s&pool_initial_size=1&pool_max_size=4").build();

    assertThat(config.dsnParameters()).isEmpty();
  }

  @Test
  void dsnParametersIgnoresEmptyPairs() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?&sslmode=disable&&").build();

    assertThat(config.dsnParameters()).containsExactly(entry("sslmode", "disable"));
  }

  // ---------------------------------------------------------------- schemes and backends

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "postgresql://h/db",
      "postgres://h/db",
      "POSTGRESQL://h/db",
      "PostgreS://h/db",
      "postgresql://user:pw@h:5432/db",
      "postgresql://user@h/db",
      "postgresql://h/db?sslmode=require",
      "postgresql://127.0.0.1:5432/db",
      "postgresql://[::1]:5432/db",
      "postgresql://db.example.com/my_db"
  })
  void postgresqlAndPostgresSchemesSelectThePostgresBackend(String dsn) {
    PgqrsConfig config = PgqrsConfig.builder(dsn).build();

    assertThat(config.backend()).isEqualTo("postgres");
    assertThat(config.dsn()).isEqualTo(dsn);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "sqlite:path/to/file.db, sqlite",
      "sqlite::memory:, sqlite",
      "SQLITE:/abs/file.db, sqlite",
      "turso://host:8080, turso",
      "turso:local.db, turso",
      "libsql://db.example.turso.io, turso",
      "libsql:local.db, turso"
  })
  void sqliteTursoAndLibsqlDsnsSelectTheirBackend(String dsn, String backend) {
    PgqrsConfig config = PgqrsConfig.builder(dsn).build();

    assertThat(config.backend()).isEqualTo(backend);
  }

  @Test
  void dsnIsTrimmed() {
    PgqrsConfig config = PgqrsConfig.builder("  postgresql://h/db \n").build();

    assertThat(config.dsn()).isEqualTo("postgresql://h/db");
  }

  // ---------------------------------------------------------------- malformed DSNs

  static Stream<Arguments> malformedDsns() {
    return Stream.of(
        Arguments.of("empty", ""),
        Arguments.of("blank", "   "),
        Arguments.of("tabs and newline", "\t\n"),
        Arguments.of("unsupported scheme", "mysql://x/y"),
        Arguments.of("jdbc prefix", "jdbc:postgresql://h/db"),
        Arguments.of("postgres scheme without slashes", "postgresql:h/db"),
        Arguments.of("no host", "postgresql://"),
        Arguments.of("no host but a database", "postgresql:///db"),
        Arguments.of("no database", "postgresql://host"),
        Arguments.of("empty database", "postgresql://host/"),
        Arguments.of("two path segments", "postgresql://host/a/b"),
        Arguments.of("query parameter without a name", "postgresql://host/db?=x"),
        Arguments.of("query parameter without a value", "postgresql://host/db?flag"),
        Arguments.of("non-numeric pool_max_size", "postgresql://host/db?pool_max_size=abc"),
        Arguments.of("non-integer pool_initial_size", "postgresql://host/db?pool_initial_size=1.5"),
        Arguments.of("space in host", "postgresql://ho st/db"),
        Arguments.of("non-numeric port", "postgresql://host:abc/db"),
        Arguments.of("non-numeric pool_max_size for sqlite", "sqlite:file.db?pool_max_size=abc"),
        Arguments.of("non-boolean wakeups", "postgresql://host/db?wakeups=sometimes"));
  }

  @ParameterizedTest(name = "{0}: \"{1}\"")
  @MethodSource("malformedDsns")
  void malformedDsnIsRejectedNamingDsn(String description, String dsn) {
    ConfigurationException e = configError(() -> PgqrsConfig.builder(dsn));

    assertThat(e.field()).as(description).isEqualTo("dsn");
    assertThat(e.getMessage()).isNotBlank();
  }

  @Test
  void nullDsnIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder(null)).field()).isEqualTo("dsn");
  }

  @Test
  void emptyDsnIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder("")).field()).isEqualTo("dsn");
  }

  @Test
  void dsnWithoutHostIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder("postgresql://")).field()).isEqualTo("dsn");
  }

  @Test
  void dsnWithoutDatabaseIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder("postgresql://host")).field()).isEqualTo("dsn");
  }

  @Test
  void dsnWithTwoPathSegmentsIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder("postgresql://host/a/b")).field()).isEqualTo("dsn");
  }

  @Test
  void dsnWithUnsupportedSchemeIsRejectedNamingDsn() {
    assertThat(configError(() -> PgqrsConfig.builder("mysql://x/y")).field()).isEqualTo("dsn");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "postgresql://u:secret@h/a/b",
      "postgresql://u:secret@h",
      "postgresql://u:secret@/db",
      "postgresql://u:secret@ho st/db",
      "mysql://u:secret@h/db",
      "postgresql://u:secret@h:abc/db"
  })
  void malformedDsnErrorsDoNotRevealThePassword(String dsn) {
    ConfigurationException e = configError(() -> PgqrsConfig.builder(dsn));

    assertThat(e.field()).isEqualTo("dsn");
    assertThat(e.getMessage()).doesNotContain("secret");
  }

  // ---------------------------------------------------------------- invalid option values

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "bad;name",
      "\"quoted\"",
      "a'b",
      "",
      " ",
      "1schema",
      "drop table x;--",
      "a b",
      "a-b",
      "a.b",
      "sch\u00e9ma",
      "\u0455chema",
      "public\u0000",
      "public\n",
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  })
  void invalidSchemaIsRejectedNamingSchema(String schema) {
    PgqrsConfig.Builder builder = PgqrsConfig.builder(DSN).schema(schema);

    assertThat(configError(builder::build).field()).isEqualTo("schema");
  }

  @Test
  void schemaOf64CharactersIsRejectedNamingSchema() {
    PgqrsConfig.Builder builder = PgqrsConfig.builder(DSN).schema("s".repeat(64));

    assertThat(configError(builder::build).field()).isEqualTo("schema");
  }

  @Test
  void nullSchemaIsRejectedNamingSchema() {
    PgqrsConfig.Builder builder = PgqrsConfig.builder(DSN).schema(null);

    assertThat(configError(builder::build).field()).isEqualTo("schema");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"_", "_x", "A1_b", "jobs", "PUBLIC", "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"})
  void schemaOfOneTo63LettersDigitsOrUnderscoresIsAccepted(String schema) {
    assertThat(PgqrsConfig.builder(DSN).schema(schema).build().schema()).isEqualTo(schema);
  }

  @Test
  void schemaOfExactly63CharactersIsAccepted() {
    String schema = "s".repeat(63);

    assertThat(PgqrsConfig.builder(DSN).schema(schema).build().schema()).isEqualTo(schema);
  }

  private static Arguments invalid(String field, String description, Consumer<PgqrsConfig.Builder> change) {
    return Arguments.of(field, description, DSN, change);
  }

  private static Arguments invalidFromDsn(String field, String dsn) {
    Consumer<PgqrsConfig.Builder> noChange = b -> { };
    return Arguments.of(field, dsn, dsn, noChange);
  }

  static Stream<Arguments> invalidOptions() {
    return Stream.of(
        invalid("poolMaxSize", "poolMaxSize 0", b -> b.poolMaxSize(0)),
        invalid("poolMaxSize", "poolMaxSize -1", b -> b.poolMaxSize(-1)),
        invalid("poolInitialSize", "poolInitialSize -1", b -> b.poolInitialSize(-1)),
        invalid("poolInitialSize", "poolInitialSize above max", b -> b.poolMaxSize(3).poolInitialSize(4)),
        invalid("poolInitialSize", "poolInitialSize above default max", b -> b.poolInitialSize(11)),
        invalid("leaseDuration", "leaseDuration zero", b -> b.leaseDuration(Duration.ZERO)),
        invalid("leaseDuration", "leaseDuration negative", b -> b.leaseDuration(Duration.ofSeconds(-1))),
        invalid("leaseDuration", "leaseDuration null", b -> b.leaseDuration(null)),
        invalid("pollInterval", "pollInterval zero", b -> b.pollInterval(Duration.ZERO)),
        invalid("pollInterval", "pollInterval negative", b -> b.pollInterval(Duration.ofMillis(-1))),
        invalid("pollInterval", "pollInterval null", b -> b.pollInterval(null)),
        invalid("heartbeatInterval", "heartbeatInterval zero", b -> b.heartbeatInterval(Duration.ZERO)),
        invalid("heartbeatInterval", "heartbeatInterval negative", b -> b.heartbeatInterval(Duration.ofSeconds(-5))),
        invalid("heartbeatInterval", "heartbeatInterval null", b -> b.heartbeatInterval(null)),
        invalid("connectTimeout", "connectTimeout zero", b -> b.connectTimeout(Duration.ZERO)),
        invalid("connectTimeout", "connectTimeout negative", b -> b.connectTimeout(Duration.ofNanos(-1))),
        invalid("connectTimeout", "connectTimeout null", b -> b.connectTimeout(null)),
        invalid("archiveRetention", "archiveRetention negative", b -> b.archiveRetention(Duration.ofNanos(-1))),
        invalid("archiveRetention", "archiveRetention null", b -> b.archiveRetention(null)),
        invalid("maxAttempts", "maxAttempts 0", b -> b.maxAttempts(0)),
        invalid("maxAttempts", "maxAttempts -1", b -> b.maxAttempts(-1)),
        invalid("maintenanceInterval", "maintenanceInterval negative",
            b -> b.maintenanceInterval(Duration.ofSeconds(-1))),
        invalid("maintenanceInterval", "maintenanceInterval null", b -> b.maintenanceInterval(null)),
        invalid("workerStaleAfter", "workerStaleAfter zero", b -> b.workerStaleAfter(Duration.ZERO)),
        invalid("workerStaleAfter", "workerStaleAfter negative", b -> b.workerStaleAfter(Duration.ofSeconds(-1))),
        invalid("workerStaleAfter", "workerStaleAfter equal to the heartbeat",
            b -> b.heartbeatInterval(Duration.ofSeconds(20)).workerStaleAfter(Duration.ofSeconds(20))),
        invalid("workerStaleAfter", "workerStaleAfter below the default heartbeat",
            b -> b.workerStaleAfter(Duration.ofSeconds(5))),
        invalidFromDsn("poolMaxSize", "postgresql://h/db?pool_max_size=0"),
        invalidFromDsn("poolInitialSize", "postgresql://h/db?pool_initial_size=5&pool_max_size=4"),
        invalidFromDsn("schema", "postgresql://h/db?schema=1x"),
        invalidFromDsn("schema", "postgresql://h/db?schema="));
  }

  @ParameterizedTest(name = "{1} -> {0}")
  @MethodSource("invalidOptions")
  void invalidOptionIsRejectedAtBuildNamingItsField(
      String field, String description, String dsn, Consumer<PgqrsConfig.Builder> change) {
    PgqrsConfig.Builder builder = PgqrsConfig.builder(dsn);
    change.accept(builder);

    ConfigurationException e = configError(builder::build);

    assertThat(e.field()).as(description).isEqualTo(field);
    assertThat(e.getMessage()).contains(field);
  }

  @Test
  void poolInitialSizeZeroAndEqualToMaxAreAccepted() {
    assertThat(PgqrsConfig.builder(DSN).poolInitialSize(0).build().poolInitialSize()).isZero();
    assertThat(PgqrsConfig.builder(DSN).poolMaxSize(4).poolInitialSize(4).build().poolInitialSize()).isEqualTo(4);
  }

  @Test
  void smallestPositiveValuesAreAccepted() {
    PgqrsConfig config = PgqrsConfig.builder(DSN)
        .poolMaxSize(1)
        .maxAttempts(1)
        .leaseDuration(Duration.ofNanos(1))
        .pollInterval(Duration.ofNanos(1))
        .heartbeatInterval(Duration.ofNanos(1))
        .connectTimeout(Duration.ofNanos(1))
        .archiveRetention(Duration.ZERO)
        .build();

    assertThat(config.poolMaxSize()).isEqualTo(1);
    assertThat(config.maxAttempts()).isEqualTo(1);
    assertThat(config.archiveRetention()).isZero();
  }

  // ---------------------------------------------------------------- toString, equality, toBuilder

  @Test
  void toStringMasksThePassword() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://u:secret@h/db").build();

    assertThat(config.toString()).doesNotContain("secret").contains("u:****@h/db");
  }

  @Test
  void toStringMasksAPasswordQueryParameter() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://h/db?user=u&password=secret").build();

    assertThat(config.toString()).doesNotContain("secret").contains("password=****");
  }

  @Test
  void toStringShowsTheOptions() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).schema("jobs").poolMaxSize(7).maxAttempts(3).build();

    assertThat(config.toString()).contains("schema=jobs", "poolMaxSize=7", "maxAttempts=3",
        "maintenanceInterval=PT30S", "workerStaleAfter=PT30S", "wakeups=true");
  }

  @Test
  void dsnAccessorKeepsThePassword() {
    PgqrsConfig config = PgqrsConfig.builder("postgresql://u:secret@h/db").build();

    assertThat(config.dsn()).isEqualTo("postgresql://u:secret@h/db");
  }

  @Test
  void toBuilderRoundTripsToAnEqualConfiguration() {
    PgqrsConfig original = PgqrsConfig.builder(DSN).schema("jobs").maxAttempts(2)
        .leaseDuration(Duration.ofSeconds(90)).build();

    PgqrsConfig copy = original.toBuilder().build();

    assertThat(copy).isEqualTo(original).hasSameHashCodeAs(original);
    assertThat(copy.backend()).isEqualTo(original.backend());
  }

  @Test
  void toBuilderDerivesAVariantLeavingTheOriginalUnchanged() {
    PgqrsConfig original = PgqrsConfig.builder(DSN).schema("jobs").build();

    PgqrsConfig variant = original.toBuilder().schema("other").poolMaxSize(2).poolInitialSize(2).build();

    assertThat(variant.schema()).isEqualTo("other");
    assertThat(variant.poolMaxSize()).isEqualTo(2);
    assertThat(original.schema()).isEqualTo("jobs");
    assertThat(original.poolMaxSize()).isEqualTo(10);
    assertThat(variant).isNotEqualTo(original);
  }

  @Test
  void toBuilderStillChecksValuesAtBuild() {
    PgqrsConfig.Builder builder = PgqrsConfig.builder(DSN).build().toBuilder().maxAttempts(0);

    assertThat(configError(builder::build).field()).isEqualTo("maxAttempts");
  }

  @Test
  void configurationsWithTheSameValuesAreEqual() {
    PgqrsConfig a = PgqrsConfig.builder(DSN).schema("jobs").build();
    PgqrsConfig b = PgqrsConfig.builder(DSN).schema("jobs").build();

    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(PgqrsConfig.builder(DSN).schema("other").build());
    assertThat(a).isNotEqualTo(PgqrsConfig.builder("postgresql://h/otherdb").schema("jobs").build());
  }

  // ---------------------------------------------------------------- clock and scheduler

  @Test
  void clockAndSchedulerDefaultToTheSystemClockAndTheParallelScheduler() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).build();

    assertThat(config.clock()).isEqualTo(Clock.systemUTC());
    assertThat(config.scheduler()).isSameAs(Schedulers.parallel());
    assertThat(config.toString()).doesNotContain("clock", "scheduler");
  }

  @Test
  void aCustomClockAndSchedulerAreKeptThroughToBuilderAndShownAsCustom() {
    Clock clock = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);
    VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
    try {
      PgqrsConfig config = PgqrsConfig.builder(DSN).clock(clock).scheduler(scheduler).build();

      assertThat(config.clock()).isSameAs(clock);
      assertThat(config.scheduler()).isSameAs(scheduler);
      assertThat(config.toString()).contains("clock=custom", "scheduler=custom").doesNotContain("2030");
      PgqrsConfig copy = config.toBuilder().build();
      assertThat(copy.clock()).isSameAs(clock);
      assertThat(copy.scheduler()).isSameAs(scheduler);
      assertThat(copy).isEqualTo(config).hasSameHashCodeAs(config);
      assertThat(config).isNotEqualTo(PgqrsConfig.builder(DSN).build());
      assertThat(config.toBuilder().clock(null).scheduler(null).build()).isEqualTo(PgqrsConfig.builder(DSN).build());
    } finally {
      scheduler.dispose();
    }
  }

  @Test
  void theDefaultSchedulerIsLookedUpEachTimeSoVirtualTimeIsHonoured() {
    PgqrsConfig config = PgqrsConfig.builder(DSN).build();

    StepVerifier.withVirtualTime(() -> Mono.delay(Duration.ofHours(1), config.scheduler()))
        .expectSubscription()
        .expectNoEvent(Duration.ofMinutes(59))
        .thenAwait(Duration.ofMinutes(1))
        .expectNext(0L)
        .expectComplete()
        .verify(Duration.ofSeconds(10));
  }
}
