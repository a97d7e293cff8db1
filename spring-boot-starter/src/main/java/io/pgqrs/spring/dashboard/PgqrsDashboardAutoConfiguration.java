package io.pgqrs.spring.dashboard;

import io.pgqrs.Store;
import io.pgqrs.dashboard.PgqrsDashboard;
import io.pgqrs.spring.PgqrsAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Mounts the pgqrs web dashboard at {@code pgqrs.dashboard.path} (default {@code /pgqrs}) in a
 * reactive web application, when {@code pgqrs.dashboard.enabled=true}, the {@code pgqrs-dashboard}
 * module is on the class path and a {@link Store} bean exists. Off by default. The routes carry no
 * security of their own: protect the path with the application's security.
 */
@AutoConfiguration(after = PgqrsAutoConfiguration.class)
@ConditionalOnClass({PgqrsDashboard.class, RouterFunction.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnBooleanProperty(prefix = "pgqrs.dashboard", name = "enabled")
@ConditionalOnBean(Store.class)
@EnableConfigurationProperties(PgqrsDashboardProperties.class)
public class PgqrsDashboardAutoConfiguration {

  /** Creates the auto-configuration. */
  public PgqrsDashboardAutoConfiguration() {}

  /**
   * The dashboard of the application's store, with the {@code pgqrs.dashboard.*} options.
   *
   * @param store the store
   * @param properties the dashboard's properties
   * @return the dashboard
   * @throws io.pgqrs.InvalidArgumentException when {@code pgqrs.dashboard.path} is not like {@code /pgqrs}
   */
  @Bean
  @ConditionalOnMissingBean
  public PgqrsDashboard pgqrsDashboard(Store store, PgqrsDashboardProperties properties) {
    return PgqrsDashboard.builder(store).basePath(properties.getPath()).readOnly(properties.isReadOnly()).build();
  }

  /**
   * The dashboard's routes, picked up by WebFlux like any {@code RouterFunction} bean.
   *
   * @param dashboard the dashboard
   * @return its routes
   */
  @Bean
  @ConditionalOnMissingBean(name = "pgqrsDashboardRouter")
  public RouterFunction<ServerResponse> pgqrsDashboardRouter(PgqrsDashboard dashboard) {
    return dashboard.router();
  }
}
