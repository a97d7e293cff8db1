package io.pgqrs.spring;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;

/**
 * Auto-configuration of pgqrs: a {@link PgqrsConfig} from the {@code pgqrs.*} properties, a
 * connected {@link Store}, the consumers of {@link PgqrsHandler} methods and the workers of
 * {@code @WorkflowMethod} beans. Every bean backs off when the application defines its own.
 *
 * <p>Lifecycle, by phase: the store is connected (and, with {@code pgqrs.install-on-startup=true},
 * its schema installed) when the bean is created, so any bean can use it while initialising; the
 * consumers and workers start with the context (a {@code SmartLifecycle} in phase
 * {@code DEFAULT_PHASE - 7168}) and stop first at shutdown, draining within their shutdown
 * timeouts; the store closes last (phase {@code DEFAULT_PHASE - 8192}). A {@link Store} the
 * application defines itself is used as it is and not closed by the starter.
 */
@AutoConfiguration
@ConditionalOnClass(Store.class)
@EnableConfigurationProperties(PgqrsProperties.class)
public class PgqrsAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsAutoConfiguration() {}

  /**
   * Collects {@link PgqrsHandler} methods and {@code @WorkflowMethod} beans, checking their
   * signatures as beans initialise.
   *
   * @return the post-processor
   */
  @Bean
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  static PgqrsAnnotationPostProcessor pgqrsAnnotationPostProcessor() {
    return new PgqrsAnnotationPostProcessor();
  }

  /**
   * The workflows of {@code @WorkflowMethod} beans, for triggering runs.
   *
   * @return the registry, filled when the application starts
   */
  @Bean
  @ConditionalOnMissingBean
  public PgqrsWorkflows pgqrsWorkflows() {
    return new PgqrsWorkflows();
  }

  /**
   * Starts and drains the consumers and workers.
   *
   * @param store the store
   * @param properties the defaults
   * @param pgqrsAnnotationPostProcessor what was collected
   * @param workflows the registry to fill
   * @return the lifecycle
   */
  @Bean
  @ConditionalOnMissingBean
  PgqrsWorkerLifecycle pgqrsWorkerLifecycle(Store store, PgqrsProperties properties,
      PgqrsAnnotationPostProcessor pgqrsAnnotationPostProcessor, PgqrsWorkflows workflows) {
    return new PgqrsWorkerLifecycle(store, properties, pgqrsAnnotationPostProcessor, workflows);
  }

  /** The store, unless the application defines one. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(Store.class)
  static class StoreConfiguration {

    /**
     * The engine configuration from the properties.
     *
     * @param properties the properties
     * @return the configuration
     */
    @Bean
    @ConditionalOnMissingBean
    PgqrsConfig pgqrsConfig(PgqrsProperties properties) {
      return properties.toConfig();
    }

    /**
     * Connects the store, and installs its schema when {@code pgqrs.install-on-startup=true}.
     * This start-up path blocks the creating thread (the container's, never a Reactor thread)
     * until the store is connected, so that an unreachable database fails start-up.
     *
     * @param config the configuration
     * @param properties the properties
     * @param mappers an application's Jackson 2 mapper for payloads, if it has exactly one
     * @return the connected store
     */
    @Bean(destroyMethod = "")
    Store pgqrsStore(PgqrsConfig config, PgqrsProperties properties, ObjectProvider<ObjectMapper> mappers) {
      @Nullable ObjectMapper mapper = mappers.getIfUnique();
      Duration wait = config.connectTimeout().plusSeconds(30);
      Store store = (mapper == null ? Pgqrs.connect(config) : Pgqrs.connect(config, mapper)).block(wait);
      if (store == null) {
        throw new IllegalStateException("connecting the pgqrs store completed without a store");
      }
      if (properties.isInstallOnStartup()) {
        try {
          store.admin().install().block(Duration.ofMinutes(5));
        } catch (RuntimeException e) {
          store.close().block(wait);
          throw e;
        }
      }
      return store;
    }

    /**
     * Closes the store last at shutdown.
     *
     * @param store the store this configuration connected
     * @return the lifecycle
     */
    @Bean
    PgqrsStoreLifecycle pgqrsStoreLifecycle(Store store) {
      return new PgqrsStoreLifecycle(store);
    }
  }
}
