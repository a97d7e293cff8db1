package io.pgqrs.spring.tracing;

import io.micrometer.observation.ObservationRegistry;
import io.pgqrs.Store;
import io.pgqrs.spring.PgqrsAutoConfiguration;
import io.pgqrs.tracing.PgqrsObservations;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Registers the store's observations ({@link PgqrsObservations}: enqueues, handler executions,
 * workflow runs and steps) with the application's {@link ObservationRegistry} when the application
 * has one (Spring Boot's observation auto-configuration, which with a tracer bridge on the class
 * path turns them into spans and propagates the trace context through the message headers). Off
 * with {@code pgqrs.tracing.enabled=false}.
 */
@AutoConfiguration(after = PgqrsAutoConfiguration.class,
    afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass({ObservationRegistry.class, PgqrsObservations.class})
@ConditionalOnBean({Store.class, ObservationRegistry.class})
@ConditionalOnProperty(prefix = "pgqrs.tracing", name = "enabled", matchIfMissing = true)
public class PgqrsObservationAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsObservationAutoConfiguration() {}

  /**
   * The store's observations, registered as the bean is created and closed with the context
   * (before the store, which the context created first).
   *
   * @param store the store
   * @param registry the application's observation registry
   * @return the registration
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public PgqrsObservations pgqrsObservations(Store store, ObservationRegistry registry) {
    return PgqrsObservations.register(store, registry);
  }
}
