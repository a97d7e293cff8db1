package io.pgqrs.spring.actuate;

import io.pgqrs.Store;
import io.pgqrs.spring.PgqrsAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code pgqrs} health indicator, when Spring Boot's health module is on
 * the class path, a {@link Store} bean exists and {@code management.health.pgqrs.enabled} is not
 * false.
 */
@AutoConfiguration(after = PgqrsAutoConfiguration.class)
@ConditionalOnClass({ReactiveHealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(Store.class)
@ConditionalOnEnabledHealthIndicator("pgqrs")
public class PgqrsHealthContributorAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsHealthContributorAutoConfiguration() {}

  /**
   * The indicator; its bean name makes its contributor name {@code pgqrs}.
   *
   * @param store the store
   * @return the indicator
   */
  @Bean
  @ConditionalOnMissingBean(name = "pgqrsHealthIndicator")
  public PgqrsHealthIndicator pgqrsHealthIndicator(Store store) {
    return new PgqrsHealthIndicator(store);
  }
}
