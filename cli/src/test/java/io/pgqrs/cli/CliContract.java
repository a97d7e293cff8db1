package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.testing.StateWait;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerStatus;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.publisher.Mono;

/**
 * The tool end to end, run as a process against one store per test class: it installs the schema
 * itself, and each test prepares state through the engine's API in this JVM, runs commands and
 * checks what they print (tables, and {@code --json} read with Jackson), what they change in the
 * store and their exit codes. One subclass per backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CliContract {

  static final Duration T = Duration.ofSeconds(30);

  Store store;

  /** The store's DSN, as an operator would pass it with {@code --dsn}. */
  abstract String dsn();

  CliProcess.Result pgqrs(String... args) {
    return CliProcess.withDsn(dsn(), args);
  }

  @BeforeAll
  void installThroughTheTool() {
    CliProcess.Result installed = pgqrs("install").exits(ExitCodes.OK);
    assertThat(installed.out()).startsWith("installed schema '").contains("at version");
    store = Objects.requireNonNull(Pgqrs.connect(dsn()).block(T));
  }

  @AfterAll
  void closeStore() {
    if (store != null) {
      store.close().block(T);
    }
  }

  @Test
  void queuesAreCreatedListedMeasuredPurgedAndDeleted() {
    String q = "cli_queue";
    JsonNode report = pgqrs("verify", "--json").exits(ExitCodes.OK).json();
    assertThat(report.get("valid").asBoolean()).isTrue();
    assertThat(report.get("installedVersion").asInt()).isEqualTo(report.get("expectedVersion").asInt()).isPositive();

    assertThat(pgqrs("queues", "create", q, "--max-attempts", "2", "--max-leased", "5").exits(ExitCodes.OK).out())
        .contains(q);
    assertThat(pgqrs("queues", "create", q).exits(ExitCodes.REFUSED).err())
        .isEqualToIgnoringNewLines("pgqrs: queue '" + q + "' exists already");
    List<Long> ids = store.producer(q).build()
        .enqueuePayloads(IntStream.rangeClosed(1, 3).mapToObj(n -> n == 1
            ? io.pgqrs.queue.NewMessage.of(Map.of("n", n)).withHeader("traceparent", "00-abc-def-01")
            : Map.of("n", n)).toList()).block(T);

    String table = pgqrs("queues", "list").exits(ExitCodes.OK).out();
    List<String> lines = table.lines().toList();
    assertThat(lines.get(0)).startsWith("NAME").contains("MAX_ATTEMPTS", "MAX_LEASED");
    String row = lines.stream().filter(l -> l.startsWith(q + " ")).findFirst().orElseThrow();
    assertThat(row.substring(lines.get(0).indexOf("MAX_ATTEMPTS"))).as("max attempts under its header")
        .startsWith("2 ");
    assertThat(row.substring(lines.get(0).indexOf("MAX_LEASED "))).as("max leased under its header").startsWith("5 ");

    JsonNode metrics = pgqrs("queues", "metrics", q, "--json").exits(ExitCodes.OK).json();
    assertThat(metrics.get("queue").asText()).isEqualTo(q);
    assertThat(metrics.get("pending").asLong()).isEqualTo(3);
    assertThat(metrics.get("dead").asLong()).isZero();

    JsonNode live = pgqrs("messages", "list", q, "--state", "live", "--json").exits(ExitCodes.OK).json();
    assertThat(ids(live)).containsExactlyElementsOf(ids);
    JsonNode first = pgqrs("messages", "get", ids.get(0).toString(), "--json").exits(ExitCodes.OK).json();
    assertThat(first.get("state").asText()).isEqualTo("LIVE");
    assertThat(first.get("queue").asText()).isEqualTo(q);
    assertThat(first.get("payload").get("n").asInt()).isEqualTo(1);
    assertThat(first.get("headers").get("traceparent").asText()).isEqualTo("00-abc-def-01");
    assertThat(pgqrs("messages", "get", ids.get(0).toString()).exits(ExitCodes.OK).out())
        .containsPattern("headers +\\{\"traceparent\":\"00-abc-def-01\"}");

    assertThat(pgqrs("queues", "delete", q).exits(ExitCodes.REFUSED).err()).startsWith("pgqrs: ").contains(q);
    assertThat(pgqrs("queues", "purge", q, "--json").exits(ExitCodes.OK).json().get("purged").asLong()).isEqualTo(3);
    assertThat(pgqrs("queues", "delete", q).exits(ExitCodes.OK).out()).isEqualToIgnoringNewLines("deleted queue '" + q + "'");
    CliProcess.Result gone = pgqrs("queues", "metrics", q).exits(ExitCodes.NOT_FOUND);
    assertThat(gone.err()).as("one line, no stack trace").isEqualToIgnoringNewLines("pgqrs: queue '" + q + "' does not exist");
    assertThat(gone.out()).isEmpty();
  }

  @Test
  void schedulesAreListedShownPausedResumedAndDeleted() {
    String q = "cli_scheduled";
    store.queues().create(q).block(T);
    store.schedules().create(io.pgqrs.schedule.NewSchedule.queue("cli_nightly", "0 3 * * *", q, Map.of("job", "report")))
        .block(T);

    JsonNode listed = pgqrs("schedules", "list", "--json").exits(ExitCodes.OK).json();
    JsonNode nightly = null;
    for (JsonNode s : listed) {
      if (s.get("name").asText().equals("cli_nightly")) {
        nightly = s;
      }
    }
    assertThat(nightly).as("the schedule in the list").isNotNull();
    assertThat(nightly.get("cron").asText()).isEqualTo("0 3 * * *");
    assertThat(nightly.get("paused").asBoolean()).isFalse();
    String table = pgqrs("schedules", "get", "cli_nightly").exits(ExitCodes.OK).out();
    assertThat(table.lines().toList().get(0)).startsWith("NAME").contains("CRON", "TARGET", "NEXT_FIRE_AT");
    assertThat(table).contains("queue " + q);

    assertThat(pgqrs("schedules", "pause", "cli_nightly").exits(ExitCodes.OK).out())
        .isEqualToIgnoringNewLines("schedule cli_nightly is paused");
    assertThat(store.schedules().get("cli_nightly").block(T).paused()).isTrue();
    assertThat(pgqrs("schedules", "resume", "cli_nightly", "--json").exits(ExitCodes.OK).json()
        .get("paused").asBoolean()).isFalse();
    assertThat(pgqrs("schedules", "delete", "cli_nightly").exits(ExitCodes.OK).out())
        .isEqualToIgnoringNewLines("deleted schedule cli_nightly");
    assertThat(pgqrs("schedules", "get", "cli_nightly").exits(ExitCodes.NOT_FOUND).err()).startsWith("pgqrs: ")
        .contains("cli_nightly");
  }

  @Test
  void deadLettersAreListedAndReplayed() {
    String q = "cli_dead";
    store.queues().create(q).block(T);
    store.producer(q).build().enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2))).block(T);
    List<Message> claimed = store.messages().claim(q, 2).block(T);
    for (Message m : claimed) {
      store.messages().deadLetter(m.lease(), "boom " + m.id()).block(T);
    }
    long firstId = claimed.get(0).id();

    JsonNode dead = pgqrs("dlq", "list", q, "--json").exits(ExitCodes.OK).json();
    assertThat(ids(dead)).containsExactlyInAnyOrderElementsOf(claimed.stream().map(Message::id).toList());
    assertThat(dead.get(0).get("state").asText()).isEqualTo("DEAD");
    assertThat(dead.get(0).get("lastError").asText()).isEqualTo("boom " + dead.get(0).get("id").asLong());

    assertThat(pgqrs("dlq", "replay", Long.toString(firstId)).exits(ExitCodes.OK).out())
        .isEqualToIgnoringNewLines("replayed 1 message of queue '" + q + "'");
    Message replayed = store.messages().get(firstId).block(T);
    assertThat(replayed.state()).isEqualTo(MessageState.LIVE);
    assertThat(replayed.attempts()).isZero();
    assertThat(pgqrs("dlq", "replay", Long.toString(firstId)).exits(ExitCodes.REFUSED).err())
        .contains("is not dead-lettered");

    JsonNode all = pgqrs("dlq", "replay", "--all", q, "--json").exits(ExitCodes.OK).json();
    assertThat(all.get("replayed").asLong()).isEqualTo(1);
    assertThat(store.queues().metrics(q).block(T).dead()).isZero();
    pgqrs("dlq", "replay", "999999999").exits(ExitCodes.NOT_FOUND);
  }

  @Test
  void childRunsAreListedByParentAndShownWithTheirParent() {
    Workflow<String, String> child = store.runs().register(Workflows.define("cli_child", String.class, String.class,
        (ctx, in) -> ctx.step("shout", String.class, () -> Mono.just(in.toUpperCase())))).block(T);
    Workflow<String, String> parent = store.runs().register(Workflows.define("cli_parent", String.class, String.class,
        (ctx, in) -> ctx.child(child, in).map(out -> "child said " + out))).block(T);
    WorkflowWorker childWorker = child.worker().start();
    WorkflowWorker parentWorker = parent.worker().start();
    try {
      RunHandle<String> run = parent.trigger("hi").block(T);
      assertThat(run.result().block(T)).isEqualTo("child said HI");
      JsonNode children = pgqrs("runs", "list", "--parent", Long.toString(run.runId()), "--json")
          .exits(ExitCodes.OK).json();
      assertThat(children).hasSize(1);
      assertThat(children.get(0).get("workflow").asText()).isEqualTo("cli_child");
      assertThat(children.get(0).get("parentRunId").asLong()).isEqualTo(run.runId());
      JsonNode shown = pgqrs("runs", "show", Long.toString(run.runId()), "--json").exits(ExitCodes.OK).json();
      assertThat(shown.get("children").get(0).get("id").asLong()).isEqualTo(children.get(0).get("id").asLong());
      assertThat(pgqrs("runs", "show", children.get(0).get("id").asText()).exits(ExitCodes.OK).out())
          .contains("parent").contains(Long.toString(run.runId()));
    } finally {
      childWorker.stop().block(T);
      parentWorker.stop().block(T);
    }
  }

  @Test
  void workflowRunsAreListedShownSignalledPausedAndCancelled() {
    String name = "cli_checkout";
    WorkflowDefinition<String, String> checkout = Workflows.define(name, String.class, String.class,
        (ctx, order) -> ctx.step("charge", String.class, () -> Mono.just("charged " + order))
            .flatMap(charged -> ctx.awaitSignal("approved", Boolean.class, Duration.ofHours(1))
                .map(ok -> charged + (ok ? ", approved" : ", refused"))));
    Workflow<String, String> workflow = store.runs().register(checkout).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(2).pollInterval(Duration.ofMillis(100)).start();
    try {
      RunHandle<String> approved = workflow.trigger("order-1").block(T);
      RunHandle<String> cancelled = workflow.trigger("order-2").block(T);
      awaitSignalWait(approved.runId());
      awaitSignalWait(cancelled.runId());

      JsonNode runs = pgqrs("runs", "list", "--workflow", name, "--since", "1h", "--json").exits(ExitCodes.OK).json();
      assertThat(ids(runs)).containsExactly(cancelled.runId(), approved.runId());
      assertThat(runs.get(0).get("status").asText()).isEqualTo("RUNNING");

      JsonNode shown = pgqrs("runs", "show", Long.toString(approved.runId()), "--json").exits(ExitCodes.OK).json();
      assertThat(shown.get("run").get("id").asLong()).isEqualTo(approved.runId());
      assertThat(shown.get("run").get("input").asText()).isEqualTo("order-1");
      JsonNode steps = shown.get("steps");
      assertThat(steps.get(0).get("stepId").asText()).isEqualTo("charge");
      assertThat(steps.get(0).get("status").asText()).isEqualTo("SUCCESS");
      assertThat(steps.get(0).get("output").asText()).isEqualTo("charged order-1");
      assertThat(steps.get(1).get("status").asText()).isEqualTo("WAITING");

      pgqrs("runs", "signal", Long.toString(approved.runId()), "approved", "true").exits(ExitCodes.OK);
      assertThat(approved.result().block(T)).isEqualTo("charged order-1, approved");
      assertThat(pgqrs("runs", "signal", Long.toString(approved.runId()), "approved", "true")
          .exits(ExitCodes.REFUSED).err()).contains("SUCCESS");

      assertThat(pgqrs("runs", "pause", Long.toString(cancelled.runId())).exits(ExitCodes.OK).out()).contains("PAUSED");
      assertThat(pgqrs("runs", "resume", Long.toString(cancelled.runId())).exits(ExitCodes.OK).out())
          .doesNotContain("PAUSED");
      JsonNode cancel = pgqrs("runs", "cancel", Long.toString(cancelled.runId()), "--reason", "customer left", "--json")
          .exits(ExitCodes.OK).json();
      assertThat(cancel.get("status").asText()).isIn("CANCELLING", "CANCELLED");
      RunInfo ended = StateWait.until("the run is cancelled", T, () -> store.runs().get(cancelled.runId()),
          r -> r.status() == RunStatus.CANCELLED);
      assertThat(ended.error()).contains("customer left");

      assertThat(pgqrs("runs", "restart", Long.toString(cancelled.runId())).exits(ExitCodes.OK).out())
          .contains("is QUEUED");
      awaitSignalWait(cancelled.runId());
      assertThat(pgqrs("runs", "restart", Long.toString(cancelled.runId())).exits(ExitCodes.REFUSED).err())
          .startsWith("pgqrs: ");
      pgqrs("runs", "signal", Long.toString(cancelled.runId()), "approved", "false").exits(ExitCodes.OK);
      assertThat(workflow.run(cancelled.runId()).result().block(T)).isEqualTo("charged order-2, refused");
      assertThat(pgqrs("runs", "restart", Long.toString(approved.runId())).exits(ExitCodes.REFUSED).err())
          .contains("SUCCESS");
      JsonNode fork = pgqrs("runs", "fork", Long.toString(approved.runId()), "--from-step", "charge", "--json")
          .exits(ExitCodes.OK).json();
      assertThat(fork.get("id").asLong()).isNotEqualTo(approved.runId());
      assertThat(fork.get("status").asText()).isEqualTo("QUEUED");
      assertThat(pgqrs("runs", "fork", Long.toString(approved.runId()), "--from-step", "nope").exits(ExitCodes.USAGE)
          .err()).contains("nope");
      pgqrs("runs", "fork", "999999999", "--from-step", "charge").exits(ExitCodes.NOT_FOUND);

      pgqrs("runs", "cancel", Long.toString(cancelled.runId())).exits(ExitCodes.USAGE);
      pgqrs("runs", "show", "999999999").exits(ExitCodes.NOT_FOUND);
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void aRunsEventsAreListedOfEveryKeyOrOfOne() {
    Workflow<String, String> workflow = store.runs().register(Workflows.define("cli_events", String.class,
        String.class, (ctx, in) -> ctx.setEvent("progress", 1)
            .then(ctx.setEvent("stage", "charged"))
            .then(ctx.setEvent("progress", 2))
            .thenReturn(in))).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(1).pollInterval(Duration.ofMillis(100)).start();
    try {
      RunHandle<String> run = workflow.trigger("order-1").block(T);
      assertThat(run.result().block(T)).isEqualTo("order-1");
      String id = Long.toString(run.runId());
      JsonNode all = pgqrs("runs", "events", id, "--json").exits(ExitCodes.OK).json();
      assertThat(all).hasSize(3);
      assertThat(all.get(1).get("key").asText()).isEqualTo("stage");
      assertThat(all.get(1).get("value").asText()).isEqualTo("charged");
      JsonNode progress = pgqrs("runs", "events", id, "progress", "--json").exits(ExitCodes.OK).json();
      assertThat(progress).hasSize(2);
      assertThat(progress.get(1).get("value").asInt()).isEqualTo(2);
      assertThat(pgqrs("runs", "events", id, "none").exits(ExitCodes.OK).out()).contains("no events");
      pgqrs("runs", "events", "999999999").exits(ExitCodes.NOT_FOUND);
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void workersAreListedJudgedSuspendedResumedAndDeleted() {
    String q = "cli_workers";
    store.queues().create(q).block(T);
    WorkerInfo registered = store.workers().register("cli-worker-1", q).block(T);
    String id = Long.toString(registered.id());

    JsonNode listed = pgqrs("workers", "list", "--queue", q, "--json").exits(ExitCodes.OK).json();
    assertThat(ids(listed)).containsExactly(registered.id());
    assertThat(listed.get(0).get("name").asText()).isEqualTo("cli-worker-1");
    assertThat(listed.get(0).get("status").asText()).isEqualTo("READY");
    JsonNode health = pgqrs("workers", "health", "--stale-after", "1h", "--json").exits(ExitCodes.OK).json();
    JsonNode mine = StreamSupport.stream(health.spliterator(), false)
        .filter(h -> h.get("worker").get("id").asLong() == registered.id()).findFirst().orElseThrow();
    assertThat(mine.get("healthy").asBoolean()).isTrue();
    assertThat(mine.get("leases").asLong()).isZero();

    assertThat(pgqrs("workers", "suspend", id).exits(ExitCodes.OK).out()).contains("SUSPENDED");
    assertThat(store.workers().get(registered.id()).block(T).status()).isEqualTo(WorkerStatus.SUSPENDED);
    pgqrs("workers", "resume", id).exits(ExitCodes.OK);
    assertThat(store.workers().get(registered.id()).block(T).status()).isEqualTo(WorkerStatus.READY);

    store.producer(q).build().enqueue(Map.of("n", 1)).block(T);
    Message leased = store.messages().claim(q, 1, Duration.ofMinutes(5), registered.id()).block(T).get(0);
    assertThat(pgqrs("workers", "delete", id).exits(ExitCodes.REFUSED).err()).startsWith("pgqrs: ");
    store.messages().release(leased.lease()).block(T);
    pgqrs("workers", "delete", id).exits(ExitCodes.OK);
    pgqrs("workers", "delete", id).exits(ExitCodes.NOT_FOUND);
  }

  /** Waits until the run's first step is recorded and its signal wait too. */
  private void awaitSignalWait(long runId) {
    StateWait.until("run " + runId + " waits for its signal", T, () -> store.runs().steps(runId).collectList(),
        steps -> steps.stream().map(StepInfo::status).toList().equals(List.of(StepStatus.SUCCESS, StepStatus.WAITING)));
  }

  static List<Long> ids(JsonNode array) {
    assertThat(array.isArray()).as("a JSON array: %s", array).isTrue();
    List<Long> ids = new ArrayList<>();
    array.forEach(element -> ids.add(element.get("id").asLong()));
    return ids;
  }
}
