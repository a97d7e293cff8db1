package io.pgqrs.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import io.pgqrs.StoreUnavailableException;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.spring.actuate.PgqrsEndpoint;
import io.pgqrs.spring.actuate.PgqrsEndpointAutoConfiguration;
import io.pgqrs.spring.actuate.PgqrsHealthContributorAutoConfiguration;
import io.pgqrs.spring.actuate.PgqrsHealthIndicator;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The starter's behaviour on one backend: subclasses give a DSN of a database (schema or file)
 * that belongs to the test class, and one of a place where nothing is installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StarterContract {

  static final Duration WAIT = Duration.ofSeconds(20);

  /** A DSN of this class's own database; the contract installs the schema there. */
  abstract String dsn();

  /** A DSN of a schema or file where pgqrs is not installed. */
  abstract String uninstalledDsn();

  /** A second store on the same database, to look at it from outside the application. */
  private Store observer;

  @BeforeAll
  void connectObserver() {
    observer = Pgqrs.connect(PgqrsConfig.builder(dsn()).maintenanceInterval(Duration.ZERO).build()).block(WAIT);
    observer.admin().install().block(WAIT);
  }

  @AfterAll
  void closeObserver() {
    if (observer != null) {
      observer.close().block(WAIT);
    }
  }

  ApplicationContextRunner runner() {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(PgqrsAutoConfiguration.class,
            PgqrsHealthContributorAutoConfiguration.class, PgqrsEndpointAutoConfiguration.class))
        .withPropertyValues("pgqrs.dsn=" + dsn(), "pgqrs.install-on-startup=true",
            "pgqrs.poll-interval=200ms", "pgqrs.consumer.shutdown-timeout=10s",
            "management.endpoints.web.exposure.include=health,pgqrs");
  }

  private void createQueue(String name) {
    observer.queues().create(name).block(WAIT);
  }

  private long enqueue(String queue, Object payload) {
    return observer.producer(queue).build().enqueue(payload).block(WAIT);
  }

  // ---------------------------------------------------------------------------------------------
  // The store

  @Test
  void theStoreBeanIsConnectedToTheConfiguredDatabase() {
    runner().run(context -> {
      assertThat(context).hasNotFailed().hasSingleBean(Store.class).hasSingleBean(PgqrsConfig.class);
      Store store = context.getBean(Store.class);
      assertThat(store.config().dsn()).isEqualTo(dsn());
      assertThat(store.admin().verify().block(WAIT).isValid()).isTrue();
    });
  }

  @Test
  void installOnStartupInstallsTheSchemaAndItsAbsenceLeavesItAlone() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(PgqrsAutoConfiguration.class))
        .withPropertyValues("pgqrs.dsn=" + uninstalledDsn())
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(Store.class).admin().verify().block(WAIT).installedVersion()).isZero();
        });
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(PgqrsAutoConfiguration.class))
        .withPropertyValues("pgqrs.dsn=" + uninstalledDsn(), "pgqrs.install-on-startup=true")
        .run(context -> {
          assertThat(context).hasNotFailed();
          Store store = context.getBean(Store.class);
          assertThat(store.admin().verify().block(WAIT).isValid()).isTrue();
          store.admin().uninstall().block(WAIT);
        });
  }

  @Test
  void anApplicationStoreIsUsedAndNotClosed() {
    Store own = Pgqrs.connect(dsn()).block(WAIT);
    try {
      runner().withBean(Store.class, () -> own).run(context -> {
        assertThat(context).hasNotFailed();
        assertThat(context.getBean(Store.class)).isSameAs(own);
        assertThat(context).doesNotHaveBean(PgqrsConfig.class);
      });
      assertThat(own.queues().list().collectList().block(WAIT)).isNotNull();
    } finally {
      own.close().block(WAIT);
    }
  }

  @Test
  void theStoreClosesWithTheContext() {
    AtomicReference<Store> store = new AtomicReference<>();
    runner().run(context -> store.set(context.getBean(Store.class)));
    assertThatThrownBy(() -> store.get().queues().list().collectList().block(WAIT))
        .isInstanceOf(StoreUnavailableException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  record Email(String to, int attempt) {}

  static class EmailHandlers {
    final BlockingQueue<Email> emails = new LinkedBlockingQueue<>();
    final BlockingQueue<JsonNode> nodes = new LinkedBlockingQueue<>();
    final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    final BlockingQueue<String> threads = new LinkedBlockingQueue<>();

    @PgqrsHandler(queue = "${test.queue}-typed", concurrency = "${test.concurrency:2}")
    Mono<Void> typed(Email email) {
      return Mono.fromRunnable(() -> emails.add(email));
    }

    @PgqrsHandler(queue = "${test.queue}-json")
    Mono<Void> json(JsonNode node) {
      nodes.add(node);
      return Mono.empty();
    }

    @PgqrsHandler(queue = "${test.queue}-message", retryBackoff = "fixed", retryDelay = "100ms")
    void blocking(Message message) {
      messages.add(message);
      threads.add(Thread.currentThread().getName());
    }
  }

  @Test
  void annotatedHandlersReceiveMessagesEnqueuedAfterStart() {
    String queue = "handled";
    createQueue(queue + "-typed");
    createQueue(queue + "-json");
    createQueue(queue + "-message");
    runner().withPropertyValues("test.queue=" + queue)
        .withBean(EmailHandlers.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          EmailHandlers handlers = context.getBean(EmailHandlers.class);
          long typed = enqueue(queue + "-typed", Map.of("to", "ada@example.com", "attempt", 1));
          enqueue(queue + "-json", Map.of("k", "v"));
          long plain = enqueue(queue + "-message", Map.of("to", "alan@example.com"));

          assertThat(handlers.emails.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(new Email("ada@example.com", 1));
          assertThat(handlers.nodes.poll(WAIT.toSeconds(), TimeUnit.SECONDS).get("k").asText()).isEqualTo("v");
          Message message = handlers.messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
          assertThat(message.id()).isEqualTo(plain);
          assertThat(handlers.threads.poll(WAIT.toSeconds(), TimeUnit.SECONDS))
              .as("a void handler runs on boundedElastic").startsWith("boundedElastic");
          StateWait.until("the typed message is archived", WAIT,
              () -> observer.messages().get(typed).map(m -> m.state() == MessageState.ARCHIVED));
          StateWait.until("the plain message is archived", WAIT,
              () -> observer.messages().get(plain).map(m -> m.state() == MessageState.ARCHIVED));
        });
  }

  static class FailingHandler {
    final BlockingQueue<Integer> attempts = new LinkedBlockingQueue<>();

    @PgqrsHandler(queue = "retried", retryBackoff = "fixed", retryDelay = "0s", noRetryFor = IllegalArgumentException.class)
    Mono<Void> handle(Message message) {
      attempts.add(message.attempts());
      if (message.payload().get("fatal").asBoolean()) {
        return Mono.error(new IllegalArgumentException("never works"));
      }
      return message.attempts() < 2 ? Mono.error(new IllegalStateException("try again")) : Mono.empty();
    }
  }

  @Test
  void failuresAreRetriedUnderTheAnnotationsPolicyAndNoRetryForDeadLetters() {
    createQueue("retried");
    runner().withBean(FailingHandler.class).run(context -> {
      assertThat(context).hasNotFailed();
      FailingHandler handler = context.getBean(FailingHandler.class);
      long retried = enqueue("retried", Map.of("fatal", false));
      StateWait.until("the retried message is archived after its second attempt", WAIT,
          () -> observer.messages().get(retried).map(m -> m.state() == MessageState.ARCHIVED && m.attempts() == 2));
      long fatal = enqueue("retried", Map.of("fatal", true));
      StateWait.until("the fatal message is dead-lettered at its first attempt", WAIT,
          () -> observer.messages().get(fatal).map(m -> m.state() == MessageState.DEAD && m.attempts() == 1));
      assertThat(handler.attempts).containsExactly(1, 2, 1);
    });
  }

  static class StrictHandler {
    @PgqrsHandler(queue = "strict")
    Mono<Void> handle(Email email) {
      return Mono.empty();
    }
  }

  @Test
  void aPayloadTheParameterCannotHoldIsDeadLetteredAtOnce() {
    createQueue("strict");
    runner().withBean(StrictHandler.class).run(context -> {
      long id = enqueue("strict", Map.of("to", Map.of("nested", true), "attempt", "many"));
      Message dead = StateWait.until("the message is dead-lettered", WAIT, () -> observer.messages().get(id),
          m -> m.state() == MessageState.DEAD);
      assertThat(dead.attempts()).isEqualTo(1);
      assertThat(dead.lastError()).contains("cannot be converted").contains("StrictHandler.handle");
    });
  }

  static class SelfSettlingHandler {
    final BlockingQueue<Long> seen = new LinkedBlockingQueue<>();

    /** Dead-letters what it refuses and leaves the rest to be acknowledged from its outcome. */
    @PgqrsHandler(queue = "self-settling-${test.suffix}")
    Mono<Void> handle(io.pgqrs.queue.Delivery delivery) {
      seen.add(delivery.message().id());
      return delivery.message().payload().path("refuse").asBoolean()
          ? delivery.deadLetter("refused by the handler").then()
          : Mono.empty();
    }
  }

  @Test
  void aHandlerTakingADeliverySettlesItsMessagesItself() {
    String queue = "self-settling-" + getClass().getSimpleName().toLowerCase();
    createQueue(queue);
    runner().withPropertyValues("test.suffix=" + getClass().getSimpleName().toLowerCase())
        .withBean(SelfSettlingHandler.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          long refused = enqueue(queue, Map.of("refuse", true));
          long kept = enqueue(queue, Map.of("refuse", false));
          StateWait.until("the refused message is dead-lettered by the handler", WAIT,
              () -> observer.messages().get(refused).map(m -> m.state() == MessageState.DEAD));
          StateWait.until("the other is acknowledged from the outcome", WAIT,
              () -> observer.messages().get(kept).map(m -> m.state() == MessageState.ARCHIVED));
          assertThat(observer.messages().get(refused).block(WAIT).lastError()).isEqualTo("refused by the handler");
          assertThat(observer.messages().get(refused).block(WAIT).attempts()).as("no retry after its own settle")
              .isEqualTo(1);
        });
  }

  static class TwoParameters {
    @PgqrsHandler(queue = "anything")
    Mono<Void> wrongShape(Email email, String extra) {
      return Mono.empty();
    }
  }

  static class WrongReturn {
    @PgqrsHandler(queue = "anything")
    String wrongReturn(Email email) {
      return "no";
    }
  }

  @Test
  void aBadSignatureFailsStartUpNamingTheMethod() {
    runner().withBean(TwoParameters.class).run(context -> assertThat(context).getFailure()
        .hasStackTraceContaining("TwoParameters.wrongShape")
        .hasStackTraceContaining("exactly one parameter"));
    runner().withBean(WrongReturn.class).run(context -> assertThat(context).getFailure()
        .hasStackTraceContaining("WrongReturn.wrongReturn")
        .hasStackTraceContaining("must return void or a Publisher"));
  }

  static class MissingQueueHandler {
    final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();

    @PgqrsHandler(queue = "nowhere-${test.suffix}")
    Mono<Void> handle(Message message) {
      messages.add(message);
      return Mono.empty();
    }
  }

  @Test
  void aMissingQueueFailsStartUpNamingTheMethodAndTheQueue() {
    runner().withPropertyValues("test.suffix=a").withBean(MissingQueueHandler.class)
        .run(context -> assertThat(context).getFailure()
            .hasStackTraceContaining("MissingQueueHandler.handle")
            .hasStackTraceContaining("'nowhere-a'")
            .hasStackTraceContaining("does not exist"));
  }

  @Test
  void createQueuesCreatesAMissingQueue() {
    runner().withPropertyValues("test.suffix=b", "pgqrs.create-queues=true").withBean(MissingQueueHandler.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          long id = enqueue("nowhere-b", Map.of("hello", "world"));
          assertThat(context.getBean(MissingQueueHandler.class).messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS).id())
              .isEqualTo(id);
        });
  }

  @Test
  void anInvalidAttributeFailsStartUpNamingTheMethod() {
    createQueue("nowhere-c");
    runner().withPropertyValues("test.suffix=c", "pgqrs.consumer.concurrency=0").withBean(MissingQueueHandler.class)
        .run(context -> assertThat(context).getFailure()
            .hasStackTraceContaining("MissingQueueHandler.handle")
            .hasStackTraceContaining("concurrency"));
  }

  // ---------------------------------------------------------------------------------------------
  // Graceful shutdown

  static class SlowHandler {
    final BlockingQueue<Long> entered = new LinkedBlockingQueue<>();
    final Sinks.Empty<Void> release = Sinks.empty();

    @PgqrsHandler(queue = "slow")
    Mono<Void> handle(Message message) {
      entered.add(message.id());
      return release.asMono();
    }
  }

  /** Stops between the workers and the store: records what the store says then. */
  static class Probe implements SmartLifecycle {
    private final Store store;
    volatile boolean running;
    volatile @Nullable Long messageId;
    volatile @Nullable MessageState stateWhenWorkersStopped;

    Probe(Store store) {
      this.store = store;
    }

    @Override
    public int getPhase() {
      return PgqrsWorkerLifecycle.PHASE - 1;
    }

    @Override
    public void start() {
      running = true;
    }

    @Override
    public void stop() {
      running = false;
      Long id = messageId;
      if (id != null) {
        // The container's stopping thread, in a test: the store must still be open here.
        stateWhenWorkersStopped = store.messages().get(id).map(Message::state).block(WAIT);
      }
    }

    @Override
    public boolean isRunning() {
      return running;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ProbeConfig {
    @Bean
    Probe probe(Store store) {
      return new Probe(store);
    }
  }

  @Test
  void closingTheContextLetsARunningHandlerFinishThenClosesTheStore() throws Exception {
    createQueue("slow");
    AtomicReference<Store> appStore = new AtomicReference<>();
    AtomicReference<Long> messageId = new AtomicReference<>();
    AtomicReference<Probe> probe = new AtomicReference<>();
    runner().withBean(SlowHandler.class).withUserConfiguration(ProbeConfig.class).run(context -> {
      assertThat(context).hasNotFailed();
      SlowHandler handler = context.getBean(SlowHandler.class);
      PgqrsWorkerLifecycle workers = context.getBean(PgqrsWorkerLifecycle.class);
      appStore.set(context.getBean(Store.class));
      probe.set(context.getBean(Probe.class));
      long id = enqueue("slow", Map.of("n", 1));
      messageId.set(id);
      probe.get().messageId = id;
      assertThat(handler.entered.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(id);

      Thread closer = new Thread(context::close, "context-closer");
      closer.start();
      StateWait.until("the workers were asked to stop", WAIT, () -> Mono.fromCallable(() -> !workers.isRunning()));
      assertThat(observer.messages().get(id).block(WAIT).state()).isEqualTo(MessageState.LIVE);
      handler.release.tryEmitEmpty();
      closer.join(WAIT.toMillis());
      assertThat(closer.isAlive()).isFalse();
      assertThat(handler.entered).as("not delivered again").isEmpty();
    });
    assertThat(probe.get().stateWhenWorkersStopped).as("archived before the store closed")
        .isEqualTo(MessageState.ARCHIVED);
    assertThat(observer.messages().get(messageId.get()).block(WAIT).state()).isEqualTo(MessageState.ARCHIVED);
    assertThatThrownBy(() -> appStore.get().queues().list().collectList().block(WAIT))
        .as("the store is closed after the workers").isInstanceOf(StoreUnavailableException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Workflows

  record Order(String id, int amount) {}

  record Receipt(String id, String payment) {}

  static class Checkout {
    @WorkflowMethod("boot-checkout")
    Mono<Receipt> run(RunContext ctx, Order order) {
      return ctx.step("charge", String.class, () -> Mono.just("paid-" + order.amount()))
          .map(payment -> new Receipt(order.id(), payment));
    }
  }

  @Test
  void aWorkflowMethodBeanRunsToCompletion() {
    runner().withBean(Checkout.class).run(context -> {
      assertThat(context).hasNotFailed();
      PgqrsWorkflows workflows = context.getBean(PgqrsWorkflows.class);
      assertThat(workflows.names()).containsExactly("boot-checkout");
      Workflow<Order, Receipt> checkout = workflows.get("boot-checkout");
      RunHandle<Receipt> run = checkout.trigger(new Order("o-1", 42)).block(WAIT);
      assertThat(run.result().block(WAIT)).isEqualTo(new Receipt("o-1", "paid-42"));
      assertThat(observer.runs().get(run.runId()).block(WAIT).status()).isEqualTo(RunStatus.SUCCESS);
      assertThat(observer.runs().steps(run.runId()).collectList().block(WAIT)).hasSize(1);
    });
  }

  /** Two runs at once at most, a day to finish; each run waits at its step until released. */
  static class GatedCheckout {
    final BlockingQueue<String> started = new LinkedBlockingQueue<>();
    final Sinks.Empty<Void> gate = Sinks.empty();

    @WorkflowMethod("boot-gated")
    @PgqrsWorkflow(concurrency = "${test.gated.concurrency:2}", timeout = "1d", shutdownTimeout = "1s")
    Mono<Receipt> run(RunContext ctx, Order order) {
      return ctx.step("charge", String.class, () -> Mono.fromRunnable(() -> started.add(order.id()))
              .then(gate.asMono()).thenReturn("paid"))
          .map(payment -> new Receipt(order.id(), payment));
    }
  }

  @Test
  void aWorkflowsOwnConcurrencyAndTimeoutComeFromItsAnnotation() {
    runner().withBean(GatedCheckout.class).run(context -> {
      assertThat(context).hasNotFailed();
      Workflow<Order, Receipt> gated = context.getBean(PgqrsWorkflows.class).get("boot-gated");
      GatedCheckout bean = context.getBean(GatedCheckout.class);
      RunHandle<Receipt> first = gated.trigger(new Order("g-1", 1)).block(WAIT);
      RunHandle<Receipt> second = gated.trigger(new Order("g-2", 2)).block(WAIT);
      assertThat(bean.started.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
      assertThat(bean.started.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
      // Both slots are taken: a third run is left to the queue instead of starting at once.
      RunHandle<Receipt> third = gated.trigger(new Order("g-3", 3)).block(WAIT);
      io.pgqrs.workflow.RunInfo waiting = observer.runs().get(third.runId()).block(WAIT);
      assertThat(waiting.status()).as("with concurrency 2, not 8").isEqualTo(RunStatus.QUEUED);
      assertThat(Duration.between(waiting.createdAt(), waiting.deadline())).isEqualTo(Duration.ofDays(1));
      bean.gate.tryEmitEmpty();
      assertThat(first.result().block(WAIT)).isEqualTo(new Receipt("g-1", "paid"));
      assertThat(second.result().block(WAIT)).isEqualTo(new Receipt("g-2", "paid"));
      assertThat(third.result().block(WAIT)).isEqualTo(new Receipt("g-3", "paid"));
    });
  }

  static class ZeroConcurrency {
    @WorkflowMethod("boot-zero")
    @PgqrsWorkflow(concurrency = "${test.zero.concurrency:0}")
    Mono<String> run(RunContext ctx, String input) {
      return Mono.just(input);
    }
  }

  static class UnreadableTimeout {
    @WorkflowMethod("boot-unreadable")
    @PgqrsWorkflow(timeout = "soon")
    Mono<String> run(RunContext ctx, String input) {
      return Mono.just(input);
    }
  }

  @Test
  void badWorkflowOptionsFailStartUpNamingTheBeanTheWorkflowAndTheAttribute() {
    runner().withBean("zero", ZeroConcurrency.class).run(context -> assertThat(context).getFailure()
        .hasStackTraceContaining("@PgqrsWorkflow of bean 'zero' (workflow 'boot-zero')")
        .hasStackTraceContaining("concurrency"));
    runner().withBean("unreadable", UnreadableTimeout.class).run(context -> assertThat(context).getFailure()
        .hasStackTraceContaining("@PgqrsWorkflow of bean 'unreadable' (workflow 'boot-unreadable'): timeout 'soon'"));
  }

  static class NotAWorkflow {
    @WorkflowMethod("broken")
    Mono<String> run(String input) {
      return Mono.just(input);
    }
  }

  @Test
  void aBadWorkflowMethodFailsStartUpNamingTheBean() {
    runner().withBean("notAWorkflow", NotAWorkflow.class).run(context -> assertThat(context).getFailure()
        .hasStackTraceContaining("notAWorkflow")
        .hasStackTraceContaining("RunContext"));
  }

  // ---------------------------------------------------------------------------------------------
  // Actuator

  @Test
  void healthIsUpWhenTheSchemaIsInstalled() {
    runner().run(context -> {
      Health health = context.getBean("pgqrsHealthIndicator", PgqrsHealthIndicator.class).health().block(WAIT);
      assertThat(health.getStatus()).isEqualTo(Status.UP);
      assertThat(health.getDetails()).containsEntry("installedVersion", health.getDetails().get("expectedVersion"));
    });
  }

  @Test
  void healthIsDownWhenTheSchemaIsNotInstalled() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(PgqrsAutoConfiguration.class, PgqrsHealthContributorAutoConfiguration.class))
        .withPropertyValues("pgqrs.dsn=" + uninstalledDsn())
        .run(context -> {
          Health health = context.getBean(PgqrsHealthIndicator.class).health().block(WAIT);
          assertThat(health.getStatus()).isEqualTo(Status.DOWN);
          assertThat(health.getDetails()).containsEntry("reason", "schema not installed").containsEntry("installedVersion", 0);
        });
  }

  @Test
  void healthIsDownWhileAWorkerIsStale() {
    runner().withPropertyValues("pgqrs.heartbeat-interval=100ms", "pgqrs.worker-stale-after=300ms",
            "pgqrs.maintenance-interval=0")
        .run(context -> {
          PgqrsHealthIndicator indicator = context.getBean(PgqrsHealthIndicator.class);
          // Registered by the application's own store and never beating: this process is the one stuck.
          Store own = context.getBean(Store.class);
          long ghost = own.workers().register("ghost-" + getClass().getSimpleName(), null).block(WAIT).id();
          try {
            Health down = StateWait.until("the silent worker makes health DOWN", WAIT, indicator::health,
                h -> h.getStatus().equals(Status.DOWN));
            assertThat(down.getDetails()).containsEntry("workersStale", 1).containsEntry("otherWorkersStale", 0);
          } finally {
            own.workers().shutdown(ghost, true).block(WAIT);
          }
          assertThat(indicator.health().block(WAIT).getStatus()).isEqualTo(Status.UP);
        });
  }

  @Test
  void anotherProcessesStaleWorkerIsReportedAndLeavesHealthUp() {
    runner().withPropertyValues("pgqrs.heartbeat-interval=100ms", "pgqrs.worker-stale-after=300ms",
            "pgqrs.maintenance-interval=0")
        .run(context -> {
          PgqrsHealthIndicator indicator = context.getBean(PgqrsHealthIndicator.class);
          // Registered by another store (another process, as far as this application knows) that fell silent.
          long ghost = observer.workers().register("other-ghost-" + getClass().getSimpleName(), null).block(WAIT).id();
          try {
            Health reported = StateWait.until("the other process's silent worker is reported", WAIT, indicator::health,
                h -> Integer.valueOf(1).equals(h.getDetails().get("otherWorkersStale")));
            assertThat(reported.getStatus()).isEqualTo(Status.UP);
            assertThat(reported.getDetails()).containsEntry("workersStale", 0).containsKey("otherStaleWorkers");
          } finally {
            observer.workers().shutdown(ghost, true).block(WAIT);
          }
          assertThat(indicator.health().block(WAIT).getDetails()).containsEntry("otherWorkersStale", 0);
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Metrics

  private ApplicationContextRunner withMetrics() {
    return runner().withConfiguration(AutoConfigurations.of(
        io.pgqrs.spring.metrics.PgqrsMetricsAutoConfiguration.class));
  }

  @Test
  void theStoresMetersAreBoundToTheApplicationsRegistry() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    String queue = "metered_" + getClass().getSimpleName().toLowerCase();
    createQueue(queue);
    withMetrics().withBean(io.micrometer.core.instrument.MeterRegistry.class, () -> registry)
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(io.pgqrs.spring.metrics.PgqrsMeters.class);
          Store store = context.getBean(Store.class);
          store.producer(queue).build().enqueue(Map.of("n", 1)).block(WAIT);
          assertThat(registry.find("pgqrs.messages.enqueued").tag("queue", queue).counter().count()).isEqualTo(1);
          context.getBean(io.pgqrs.spring.metrics.PgqrsMeters.class).metrics().refresh().block(WAIT);
          assertThat(registry.find("pgqrs.queue.messages").tags("queue", queue, "state", "pending").gauge().value())
              .isEqualTo(1);
        });
    assertThat(registry.find("pgqrs.messages.enqueued").tag("queue", queue).counters())
        .as("the meters go with the application").isEmpty();
  }

  @Test
  void metersAreLeftOutWithoutARegistryOrWhenTurnedOff() {
    withMetrics().run(context -> assertThat(context).hasNotFailed()
        .doesNotHaveBean(io.pgqrs.spring.metrics.PgqrsMeters.class));
    withMetrics().withBean(io.micrometer.core.instrument.MeterRegistry.class,
            io.micrometer.core.instrument.simple.SimpleMeterRegistry::new)
        .withPropertyValues("pgqrs.metrics.enabled=false")
        .run(context -> assertThat(context).hasNotFailed()
            .doesNotHaveBean(io.pgqrs.spring.metrics.PgqrsMeters.class));
  }

  // ---------------------------------------------------------------------------------------------
  // Tracing

  private ApplicationContextRunner withTracing() {
    return runner().withConfiguration(AutoConfigurations.of(
        io.pgqrs.spring.tracing.PgqrsObservationAutoConfiguration.class));
  }

  @Test
  void theStoresObservationsGoToTheApplicationsRegistryAndItsHeadersCarryTheContext() {
    io.micrometer.observation.ObservationRegistry registry = io.micrometer.observation.ObservationRegistry.create();
    java.util.Queue<String> started = new java.util.concurrent.ConcurrentLinkedQueue<>();
    registry.observationConfig().observationHandler(new io.micrometer.observation.ObservationHandler<>() {
      @Override
      @SuppressWarnings({"unchecked", "rawtypes"})
      public void onStart(io.micrometer.observation.Observation.Context context) {
        started.add(context.getName());
        if (context instanceof io.micrometer.observation.transport.SenderContext sender) {
          sender.getSetter().set(sender.getCarrier(), "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        }
      }

      @Override
      public boolean supportsContext(io.micrometer.observation.Observation.Context context) {
        return true;
      }
    });
    String queue = "traced_" + getClass().getSimpleName().toLowerCase();
    createQueue(queue);
    withTracing().withBean(io.micrometer.observation.ObservationRegistry.class, () -> registry)
        .run(context -> {
          assertThat(context).hasNotFailed().hasSingleBean(io.pgqrs.tracing.PgqrsObservations.class);
          Store store = context.getBean(Store.class);
          long id = store.producer(queue).build().enqueue(Map.of("n", 1)).block(WAIT);
          assertThat(started).containsExactly(io.pgqrs.tracing.PgqrsObservations.ENQUEUE);
          assertThat(store.messages().get(id).block(WAIT).headers())
              .containsEntry("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        });
  }

  @Test
  void observationsAreLeftOutWithoutARegistryOrWhenTurnedOff() {
    withTracing().run(context -> assertThat(context).hasNotFailed()
        .doesNotHaveBean(io.pgqrs.tracing.PgqrsObservations.class));
    withTracing().withBean(io.micrometer.observation.ObservationRegistry.class,
            io.micrometer.observation.ObservationRegistry::create)
        .withPropertyValues("pgqrs.tracing.enabled=false")
        .run(context -> assertThat(context).hasNotFailed()
            .doesNotHaveBean(io.pgqrs.tracing.PgqrsObservations.class));
  }

  @Test
  void healthCanBeTurnedOff() {
    runner().withPropertyValues("management.health.pgqrs.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(PgqrsHealthIndicator.class));
  }

  @Test
  @SuppressWarnings("unchecked")
  void theEndpointListsQueuesWithMetricsWorkersAndRecentRuns() {
    createQueue("reported");
    enqueue("reported", Map.of("n", 1));
    enqueue("reported", Map.of("n", 2));
    runner().withBean(Checkout.class).run(context -> {
      assertThat(context).hasNotFailed();
      Workflow<Order, Receipt> checkout = context.getBean(PgqrsWorkflows.class).get("boot-checkout");
      RunHandle<Receipt> run = checkout.trigger(new Order("o-2", 7)).block(WAIT);
      run.result().block(WAIT);

      Map<String, Object> report = context.getBean(PgqrsEndpoint.class).report().block(WAIT);
      assertThat(report).containsKeys("backend", "schema", "queues", "workers", "recentRuns");
      List<Map<String, Object>> queues = (List<Map<String, Object>>) report.get("queues");
      Map<String, Object> reported = queues.stream().filter(q -> q.get("name").equals("reported")).findFirst().orElseThrow();
      assertThat(reported).containsEntry("pending", 2L).containsEntry("leased", 0L).containsKeys("archived", "dead", "maxAttempts");
      List<Map<String, Object>> workers = (List<Map<String, Object>>) report.get("workers");
      assertThat(workers).anySatisfy(w -> assertThat(w).containsEntry("queue", "boot-checkout").containsEntry("status", "READY"));
      List<Map<String, Object>> runs = (List<Map<String, Object>>) report.get("recentRuns");
      assertThat(runs).anySatisfy(r -> assertThat(r).containsEntry("id", run.runId())
          .containsEntry("workflow", "boot-checkout").containsEntry("status", "SUCCESS"));
    });
  }

  @Test
  void theEndpointNeedsToBeExposed() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(PgqrsAutoConfiguration.class, PgqrsEndpointAutoConfiguration.class))
        .withPropertyValues("pgqrs.dsn=" + dsn())
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgqrsEndpoint.class));
  }

}
