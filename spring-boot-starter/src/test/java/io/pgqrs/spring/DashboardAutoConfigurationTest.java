package io.pgqrs.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.dashboard.PgqrsDashboard;
import io.pgqrs.spring.dashboard.PgqrsDashboardAutoConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The dashboard's auto-configuration: off by default, mounted at pgqrs.dashboard.path when enabled. */
class DashboardAutoConfigurationTest {

  private static final Duration T = Duration.ofSeconds(30);

  @TempDir
  static Path directory;

  @Configuration(proxyBeanMethods = false)
  static class StoreConfig {
    @Bean(destroyMethod = "")
    Store store() {
      Store store = Objects.requireNonNull(Pgqrs.connect("sqlite:" + directory.resolve("pgqrs.db")).block(T));
      store.admin().install().block(T);
      return store;
    }
  }

  private final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(PgqrsDashboardAutoConfiguration.class))
      .withUserConfiguration(StoreConfig.class);

  @Test
  void theDashboardIsOffByDefaultAndMountedWhenEnabled() {
    runner.run(context -> {
      assertThat(context).hasNotFailed().doesNotHaveBean(PgqrsDashboard.class).doesNotHaveBean("pgqrsDashboardRouter");
      context.getBean(Store.class).close().block(T);
    });
    runner.withPropertyValues("pgqrs.dashboard.enabled=true", "pgqrs.dashboard.path=/ops/pgqrs",
        "pgqrs.dashboard.read-only=true").run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(PgqrsDashboard.class);
          PgqrsDashboard dashboard = context.getBean(PgqrsDashboard.class);
          assertThat(dashboard.basePath()).isEqualTo("/ops/pgqrs");
          assertThat(dashboard.readOnly()).isTrue();
          @SuppressWarnings("unchecked")
          RouterFunction<ServerResponse> router = context.getBean("pgqrsDashboardRouter", RouterFunction.class);
          WebTestClient client = WebTestClient.bindToRouterFunction(router).build();
          client.get().uri("/ops/pgqrs").exchange().expectStatus().isOk();
          client.post().uri("/ops/pgqrs/queues/q/purge").exchange().expectStatus().isForbidden();
          context.getBean(Store.class).close().block(T);
        });
  }
}
