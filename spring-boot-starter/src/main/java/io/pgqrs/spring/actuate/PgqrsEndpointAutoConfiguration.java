package io.pgqrs.spring.actuate;

import io.pgqrs.Store;
import io.pgqrs.spring.PgqrsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code pgqrs} actuator endpoint, when the actuator is on the class
 * path, a {@link Store} bean exists and the endpoint is available (exposed, for example with
 * {@code management.endpoints.web.exposure.include=health,pgqrs}).
 */
@AutoConfiguration(after = PgqrsAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnBean(Store.class)
@ConditionalOnAvailableEndpoint(PgqrsEndpoint.class)
public class PgqrsEndpointAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsEndpointAutoConfiguration() {}

  /**
   * The endpoint.
   *
   * @param store the store
   * @return the endpoint
   */
  @Bean
  @ConditionalOnMissingBean
  public PgqrsEndpoint pgqrsEndpoint(Store store) {
    return new PgqrsEndpoint(store);
  }
}
