package io.pgqrs.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.PgqrsConfig;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Binding of {@code pgqrs.*}, its mapping onto {@link PgqrsConfig}, and the messages of bad values. */
class PgqrsPropertiesTest {

  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties(PgqrsProperties.class)
  static class Config {
    @Bean
    PgqrsConfig pgqrsConfig(PgqrsProperties properties) {
      return properties.toConfig();
    }
  }

  private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Config.class);

  @Test
  void everyPropertyReachesTheEngineConfiguration() {
    runner.withPropertyValues(
            "pgqrs.dsn=postgresql://app@db.example:5432/app",
            "pgqrs.schema=jobs",
            "pgqrs.pool.initial-size=2",
            "pgqrs.pool.max-size=7",
            "pgqrs.lease=45s",
            "pgqrs.poll-interval=250ms",
            "pgqrs.heartbeat-interval=PT3S",
            "pgqrs.maintenance-interval=0",
            "pgqrs.max-attempts=9",
            "pgqrs.connect-timeout=4s",
            "pgqrs.worker-stale-after=20s",
            "pgqrs.wakeups=false",
            "pgqrs.statement-timeout=0",
            "pgqrs.lock-timeout=2s",
            "pgqrs.install-on-startup=true",
            "pgqrs.create-queues=true",
            "pgqrs.consumer.concurrency=3",
            "pgqrs.consumer.handler-timeout=1m",
            "pgqrs.consumer.shutdown-timeout=5s",
            "pgqrs.workflow.concurrency=2",
            "pgqrs.workflow.shutdown-timeout=6s")
        .run(context -> {
          assertThat(context).hasNotFailed();
          PgqrsConfig config = context.getBean(PgqrsConfig.class);
          assertThat(config.schema()).isEqualTo("jobs");
          assertThat(config.poolInitialSize()).isEqualTo(2);
          assertThat(config.poolMaxSize()).isEqualTo(7);
          assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(45));
          assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(250));
          assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(3));
          assertThat(config.maintenanceInterval()).isZero();
          assertThat(config.maxAttempts()).isEqualTo(9);
          assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(4));
          assertThat(config.workerStaleAfter()).isEqualTo(Duration.ofSeconds(20));
          assertThat(config.wakeups()).isFalse();
          assertThat(config.statementTimeout()).isZero();
          assertThat(config.lockTimeout()).isEqualTo(Duration.ofSeconds(2));
          PgqrsProperties properties = context.getBean(PgqrsProperties.class);
          assertThat(properties.isInstallOnStartup()).isTrue();
          assertThat(properties.isCreateQueues()).isTrue();
          assertThat(properties.getConsumer().getConcurrency()).isEqualTo(3);
          assertThat(properties.getConsumer().getHandlerTimeout()).isEqualTo(Duration.ofMinutes(1));
          assertThat(properties.getConsumer().getShutdownTimeout()).isEqualTo(Duration.ofSeconds(5));
          assertThat(properties.getWorkflow().getConcurrency()).isEqualTo(2);
          assertThat(properties.getWorkflow().getShutdownTimeout()).isEqualTo(Duration.ofSeconds(6));
        });
  }

  @Test
  void defaultsAreTheEngineDefaultsAndLeaveTheDsnParametersAlone() {
    runner.withPropertyValues("pgqrs.dsn=postgresql://app@db:5432/app?schema=from_dsn&pool_max_size=3&wakeups=false")
        .run(context -> {
          PgqrsConfig config = context.getBean(PgqrsConfig.class);
          assertThat(config.schema()).isEqualTo("from_dsn");
          assertThat(config.poolMaxSize()).isEqualTo(3);
          assertThat(config.wakeups()).isFalse();
          PgqrsConfig defaults = PgqrsConfig.builder("postgresql://app@db:5432/app?schema=from_dsn&pool_max_size=3&wakeups=false").build();
          assertThat(config).isEqualTo(defaults);
          PgqrsProperties properties = context.getBean(PgqrsProperties.class);
          assertThat(properties.isInstallOnStartup()).isFalse();
          assertThat(properties.isCreateQueues()).isFalse();
        });
  }

  @Test
  void aMissingDsnFailsStartUpNamingPgqrsDsn() {
    runner.run(context -> assertThat(context).getFailure()
        .rootCause()
        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
        .hasMessageContaining("pgqrs.dsn"));
  }

  @Test
  void aBadDsnFailsStartUpNamingPgqrsDsnWithoutThePassword() {
    runner.withPropertyValues("pgqrs.dsn=mysql://app:hunter2@db:3306/app")
        .run(context -> {
          assertThat(context).getFailure()
              .rootCause()
              .isInstanceOf(InvalidConfigurationPropertyValueException.class)
              .hasMessageContaining("pgqrs.dsn")
              .hasMessageContaining("unsupported dsn");
          assertThat(fullMessage(context.getStartupFailure())).doesNotContain("hunter2");
        });
    runner.withPropertyValues("pgqrs.dsn=mysql://db:3306/app?user=app&password=hunter2")
        .run(context -> assertThat(fullMessage(context.getStartupFailure())).contains("pgqrs.dsn")
            .doesNotContain("hunter2"));
  }

  @Test
  void aNegativeLeaseFailsStartUpNamingPgqrsLease() {
    runner.withPropertyValues("pgqrs.dsn=sqlite::memory:", "pgqrs.lease=-5s")
        .run(context -> assertThat(context).getFailure()
            .rootCause()
            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
            .hasMessageContaining("pgqrs.lease")
            .hasMessageContaining("above zero"));
  }

  @Test
  void eachBadValueNamesItsProperty() {
    String[][] cases = {
        {"pgqrs.pool.max-size=0", "pgqrs.pool.max-size"},
        {"pgqrs.pool.initial-size=-1", "pgqrs.pool.initial-size"},
        {"pgqrs.poll-interval=0", "pgqrs.poll-interval"},
        {"pgqrs.heartbeat-interval=-1s", "pgqrs.heartbeat-interval"},
        {"pgqrs.maintenance-interval=-1s", "pgqrs.maintenance-interval"},
        {"pgqrs.statement-timeout=-1s", "pgqrs.statement-timeout"},
        {"pgqrs.lock-timeout=-1s", "pgqrs.lock-timeout"},
        {"pgqrs.schema=pg_catalog", "pgqrs.schema"},
        {"pgqrs.max-attempts=0", "pgqrs.max-attempts"},
        {"pgqrs.worker-stale-after=1s", "pgqrs.worker-stale-after"},
    };
    for (String[] c : cases) {
      runner.withPropertyValues("pgqrs.dsn=sqlite::memory:", c[0])
          .run(context -> assertThat(context).getFailure()
              .rootCause()
              .as(c[0])
              .isInstanceOf(InvalidConfigurationPropertyValueException.class)
              .hasMessageContaining(c[1]));
    }
  }

  @Test
  void aValueThatDoesNotBindNamesItsProperty() {
    runner.withPropertyValues("pgqrs.dsn=sqlite::memory:", "pgqrs.lease=soon")
        .run(context -> assertThat(fullMessage(context.getStartupFailure())).contains("pgqrs.lease"));
  }

  @Test
  void theJarCarriesConfigurationMetadata() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("META-INF/spring-configuration-metadata.json").isNotNull();
      String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(json).contains("\"pgqrs.dsn\"", "\"pgqrs.lease\"", "\"pgqrs.install-on-startup\"",
          "\"pgqrs.consumer.concurrency\"", "\"pgqrs.pool.max-size\"");
    }
  }

  private static String fullMessage(Throwable error) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = error; t != null; t = t.getCause()) {
      text.append(t).append('\n');
    }
    return text.toString();
  }
}
