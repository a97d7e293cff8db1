package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.Store;
import io.pgqrs.metrics.PgqrsMetrics;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Outcome;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepOptions;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The Micrometer meters of a store ({@link PgqrsMetrics}): what each counter, timer and gauge
 * shows after the engine's work, on every backend.
 */
public abstract class MetricsContract extends StoreContract {

  private static final AtomicInteger WORKFLOWS = new AtomicInteger();

  private MeterRegistry registry;
  private @Nullable PgqrsMetrics metrics;

  @BeforeEach
  void bindMetrics() {
    registry = new SimpleMeterRegistry();
    // Refreshed by the tests themselves: the interval never fires within one.
    metrics = new PgqrsMetrics(store, Duration.ofHours(1), Tags.of("app", "contract"));
    metrics.bindTo(registry);
  }

  @AfterEach
  void closeMetrics() {
    if (metrics != null) {
      metrics.close();
    }
  }

  private double count(String name, String queue) {
    Counter c = registry.find(name).tags("queue", queue).counter();
    return c == null ? 0 : c.count();
  }

  private long timed(String name, String tag, String value, String... more) {
    Timer t = registry.find(name).tags(tag, value).tags(more).timer();
    return t == null ? 0 : t.count();
  }

  private double gauge(String queue, String state) {
    Gauge g = registry.find("pgqrs.queue.messages").tags("queue", queue, "state", state).gauge();
    assertThat(g).as("gauge of %s messages of %s", state, queue).isNotNull();
    return g.value();
  }

  private String newWorkflowName() {
    String name = "mx" + WORKFLOWS.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    return name.length() > 50 ? name.substring(0, 50) : name;
  }

  @Test
  void handledMessagesAreCountedFromEnqueueToArchive() {
    String q = newQueue();
    producer(q).enqueueBatch(List.of(io.pgqrs.queue.NewMessage.of(payload(1)), io.pgqrs.queue.NewMessage.of(payload(2)),
        io.pgqrs.queue.NewMessage.of(payload(3)))).block(T);
    assertThat(count("pgqrs.messages.enqueued", q)).isEqualTo(3);
    List<Outcome> outcomes = store.consumer(q).build().handle(m -> Mono.empty()).take(3).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind).containsOnly(Outcome.Kind.ARCHIVED);
    assertThat(count("pgqrs.messages.claimed", q)).isEqualTo(3);
    assertThat(count("pgqrs.messages.archived", q)).isEqualTo(3);
    assertThat(timed("pgqrs.handler.duration", "queue", q, "outcome", "archived")).isEqualTo(3);
    assertThat(timed("pgqrs.messages.latency", "queue", q)).isEqualTo(3);
    Timer handler = registry.find("pgqrs.handler.duration").tags("queue", q, "app", "contract").timer();
    assertThat(handler).as("the binder's own tags are on every meter").isNotNull();
    assertThat(handler.takeSnapshot().percentileValues()).as("published percentiles").hasSize(3);
  }

  @Test
  void retriesAndDeadLettersAreCountedAndTheLatencyOnlyOnce() {
    String q = newQueue(2);
    producer(q).enqueue(payload(1)).block(T);
    List<Outcome> outcomes = store.consumer(q).retryPolicy(RetryPolicy.fixed(Duration.ZERO)).build()
        .handle(m -> Mono.error(new IllegalStateException("boom"))).take(2).collectList().block(T);
    assertThat(outcomes).extracting(Outcome::kind)
        .containsExactly(Outcome.Kind.RETRY_SCHEDULED, Outcome.Kind.DEAD_LETTERED);
    assertThat(count("pgqrs.messages.retried", q)).isEqualTo(1);
    assertThat(count("pgqrs.messages.dead.lettered", q)).isEqualTo(1);
    assertThat(count("pgqrs.messages.archived", q)).isZero();
    assertThat(timed("pgqrs.handler.duration", "queue", q, "outcome", "retry_scheduled")).isEqualTo(1);
    assertThat(timed("pgqrs.handler.duration", "queue", q, "outcome", "dead_lettered")).isEqualTo(1);
    assertThat(timed("pgqrs.messages.latency", "queue", q)).as("from enqueue to the first start only").isEqualTo(1);
  }

  @Test
  void settlesOfTheDeliveryStreamAreCountedAndAStaleSettleIsALostLease() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2), payload(3))).block(T);
    List<Delivery> three = store.consumer(q).batchSize(3).build().deliveries().take(3).collectList().block(T);
    assertThat(three.get(0).ack().block(T)).isTrue();
    assertThat(three.get(1).delete().block(T)).isTrue();
    // The third one's lease is taken from under it: its settle finds the lease gone.
    store.messages().release(three.get(2).message().lease()).block(T);
    assertThat(three.get(2).ack().block(T)).isFalse();
    assertThat(count("pgqrs.messages.archived", q)).isEqualTo(1);
    assertThat(count("pgqrs.messages.deleted", q)).isEqualTo(1);
    assertThat(count("pgqrs.leases.lost", q)).isEqualTo(1);
  }

  @Test
  void gaugesShowEachQueueAsLastReadAndGoWithTheQueue() {
    String q = newQueue();
    producer(q).enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    producer(q).enqueueDelayed(payload(3), Duration.ofHours(1)).block(T);
    metrics.refresh().block(T);
    assertThat(gauge(q, "pending")).isEqualTo(2);
    assertThat(gauge(q, "delayed")).isEqualTo(1);
    assertThat(gauge(q, "leased")).isZero();
    assertThat(gauge(q, "archived")).isZero();
    assertThat(registry.find("pgqrs.queue.oldest.pending.age").tags("queue", q).timeGauge()).isNotNull();
    store.queues().delete(q, true).block(T);
    metrics.refresh().block(T);
    assertThat(registry.find("pgqrs.queue.messages").tags("queue", q).gauges()).as("gauges of a deleted queue").isEmpty();
  }

  @Test
  void workflowRunsAndStepsAreCountedAndTimed() {
    Workflow<String, String> workflow = store.runs().register(Workflows.define(newWorkflowName(), String.class,
        String.class, (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "1"))
            .flatMap(one -> ctx.step("two", String.class, () -> Mono.just(one + "2"))))).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(2).shutdownTimeout(Duration.ofSeconds(5)).start();
    try {
      assertThat(workflow.trigger("a").flatMap(RunHandle::result).block(T)).isEqualTo("a12");
      String name = workflow.definition().name();
      assertThat(registry.find("pgqrs.workflow.runs.started").tags("workflow", name).counter().count()).isEqualTo(1);
      assertThat(registry.find("pgqrs.workflow.runs.finished").tags("workflow", name, "status", "success").counter()
          .count()).isEqualTo(1);
      assertThat(timed("pgqrs.workflow.run.duration", "workflow", name, "status", "success")).isEqualTo(1);
      assertThat(timed("pgqrs.workflow.step.duration", "workflow", name, "outcome", "success")).isEqualTo(2);
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void failedStepsAndRunsAreTimedByHowTheyEnded() {
    AtomicInteger calls = new AtomicInteger();
    Workflow<String, String> workflow = store.runs().register(Workflows.define(newWorkflowName(), String.class,
        String.class, (ctx, in) -> ctx.step("flaky", String.class,
            new StepOptions(2, RetryPolicy.fixed(Duration.ZERO)),
            () -> Mono.error(new IllegalStateException("no " + calls.incrementAndGet()))))).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(1).shutdownTimeout(Duration.ofSeconds(5)).start();
    try {
      RunHandle<String> run = workflow.trigger("x").block(T);
      assertThatThrownBy(() -> run.result().block(T)).hasMessageContaining("no 2");
      String name = workflow.definition().name();
      assertThat(timed("pgqrs.workflow.step.duration", "workflow", name, "outcome", "retry")).isEqualTo(1);
      assertThat(timed("pgqrs.workflow.step.duration", "workflow", name, "outcome", "error")).isEqualTo(1);
      assertThat(registry.find("pgqrs.workflow.runs.finished").tags("workflow", name, "status", "error").counter()
          .count()).isEqualTo(1);
      assertThat(registry.find("pgqrs.workflow.runs.started").tags("workflow", name).counter().count())
          .as("a run resumed after its step's retry started once").isEqualTo(1);
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void closingRemovesTheMetersAndStopsCounting() {
    String q = newQueue();
    producer(q).enqueue(payload(1)).block(T);
    metrics.refresh().block(T);
    assertThat(registry.find("pgqrs.messages.enqueued").tags("queue", q).counter()).isNotNull();
    metrics.close();
    assertThat(registry.find("pgqrs.messages.enqueued").tags("queue", q).counters()).isEmpty();
    assertThat(registry.find("pgqrs.queue.messages").tags("queue", q).gauges()).isEmpty();
    producer(q).enqueue(payload(2)).block(T);
    assertThat(registry.find("pgqrs.messages.enqueued").tags("queue", q).counters()).as("nothing counted after close")
        .isEmpty();
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry())).isInstanceOf(IllegalStateException.class);
    metrics.close();
  }

  @Test
  void badArgumentsAreRefusedWithTypedErrors() {
    assertThatThrownBy(() -> new PgqrsMetrics(store, Duration.ofMillis(10), Tags.empty()))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("refreshInterval");
    Store foreign = (Store) java.lang.reflect.Proxy.newProxyInstance(Store.class.getClassLoader(),
        new Class<?>[] {Store.class}, (proxy, method, args) -> null);
    assertThatThrownBy(() -> new PgqrsMetrics(foreign)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("Pgqrs.connect");
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry())).as("bound already")
        .isInstanceOf(IllegalStateException.class);
    PgqrsMetrics unbound = new PgqrsMetrics(store);
    assertThatThrownBy(() -> unbound.refresh().block(T)).isInstanceOf(IllegalStateException.class);
  }
}
