package io.pgqrs.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.queue.Message;
import io.pgqrs.spring.actuate.PgqrsEndpoint;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.WorkflowMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/**
 * A whole Spring Boot application ({@code WebApplicationType.NONE}) with the starter found through
 * its {@code AutoConfiguration.imports}, the actuator's own auto-configurations and Boot's
 * lifecycle settings, on a SQLite file.
 */
class SpringApplicationStarterTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final Path directory;

  SpringApplicationStarterTest() throws IOException {
    directory = Files.createTempDirectory("pgqrs-boot-app-");
  }

  @AfterEach
  void deleteFiles() throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    }
  }

  static class Greetings {
    final BlockingQueue<String> names = new LinkedBlockingQueue<>();

    @PgqrsHandler(queue = "greetings")
    Mono<Void> greet(Message message) {
      return Mono.fromRunnable(() -> names.add(message.payload().get("name").asText()));
    }
  }

  static class Hello {
    @WorkflowMethod("hello")
    Mono<String> run(RunContext ctx, String name) {
      return ctx.step("greet", String.class, () -> Mono.just("hello " + name));
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class App {
    @Bean
    Greetings greetings() {
      return new Greetings();
    }

    @Bean
    Hello hello() {
      return new Hello();
    }
  }

  @Test
  void anApplicationGetsTheStoreHandlersWorkflowsHealthAndEndpoint() throws Exception {
    Store store;
    try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties(
            "spring.main.banner-mode=off",
            "pgqrs.dsn=sqlite:" + directory.resolve("app.db"),
            "pgqrs.install-on-startup=true",
            "pgqrs.create-queues=true",
            "management.endpoints.web.exposure.include=health,pgqrs")
        .run()) {
      store = context.getBean(Store.class);
      store.producer("greetings").build().enqueue(Map.of("name", "ada")).block(WAIT);
      assertThat(context.getBean(Greetings.class).names.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ada");

      String greeting = context.getBean(PgqrsWorkflows.class).<String, String>get("hello")
          .trigger("grace").flatMap(run -> run.result()).block(WAIT);
      assertThat(greeting).isEqualTo("hello grace");

      assertThat(context.getBean(HealthEndpoint.class).healthForPath("pgqrs").getStatus()).isEqualTo(Status.UP);
      assertThat(context.getBean(PgqrsEndpoint.class).report().block(WAIT)).containsEntry("backend", "sqlite");
    }
    assertThatThrownBy(() -> store.queues().list().collectList().block(WAIT)).isInstanceOf(StoreUnavailableException.class);
  }
}
