package io.pgqrs.spring.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgqrs.Store;
import io.pgqrs.metrics.PgqrsMetrics;
import io.pgqrs.spring.PgqrsAutoConfiguration;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Binds the store's meters ({@link PgqrsMetrics}) to the application's {@link MeterRegistry} when
 * Micrometer is on the class path and the application has a registry (Spring Boot's metrics
 * auto-configuration, or a registry bean of its own). Off with {@code pgqrs.metrics.enabled=false};
 * {@code pgqrs.metrics.refresh-interval} (default 10s) sets how often the queue gauges are read.
 */
@AutoConfiguration(after = PgqrsAutoConfiguration.class,
    afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnClass({MeterRegistry.class, PgqrsMetrics.class})
@ConditionalOnBean({Store.class, MeterRegistry.class})
@ConditionalOnProperty(prefix = "pgqrs.metrics", name = "enabled", matchIfMissing = true)
public class PgqrsMetricsAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsMetricsAutoConfiguration() {}

  /**
   * The store's meters, bound to the registry as the bean is created and removed from it when the
   * context closes (before the store, which the context created first).
   *
   * @param store the store
   * @param registry the application's registry
   * @param environment where {@code pgqrs.metrics.refresh-interval} is read (Spring Boot's duration
   *     forms: {@code 10s}, {@code PT10S}); an unreadable value fails the start naming the property
   * @return the bound meters
   */
  @Bean
  @ConditionalOnMissingBean
  public PgqrsMeters pgqrsMeters(Store store, MeterRegistry registry, Environment environment) {
    Duration refreshInterval = Binder.get(environment).bind("pgqrs.metrics.refresh-interval", Duration.class)
        .orElse(PgqrsMetrics.DEFAULT_REFRESH);
    return new PgqrsMeters(store, registry, refreshInterval);
  }
}
