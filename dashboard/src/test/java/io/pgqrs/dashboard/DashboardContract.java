package io.pgqrs.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import io.pgqrs.testing.StateWait;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.StepStatus;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowWorker;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.BodyInserters;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The dashboard's routes on a real store, through WebTestClient bound to the router (no server):
 * pages, escaping, read-only refusal, the access token, 404s and 400s, the confirmation step and the
 * event stream. One subclass per backend supplies the store's DSN.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DashboardContract {

  static final Duration T = Duration.ofSeconds(30);
  static final String HOSTILE = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";

  Store store;
  WebTestClient client;

  abstract String dsn();

  @BeforeAll
  void connectAndInstall() {
    store = Objects.requireNonNull(Pgqrs.connect(dsn()).block(T));
    store.admin().install().block(T);
    client = clientOf(PgqrsDashboard.builder(store).build());
  }

  @AfterAll
  void closeStore() {
    if (store != null) {
      store.close().block(T);
    }
  }

  static WebTestClient clientOf(PgqrsDashboard dashboard) {
    return WebTestClient.bindToRouterFunction(dashboard.router()).configureClient().responseTimeout(T).build();
  }

  String get(String path, int status) {
    return client.get().uri(path).exchange().expectStatus().isEqualTo(status)
        .expectBody(String.class).returnResult().getResponseBody();
  }

  WebTestClient.ResponseSpec post(WebTestClient on, String path, Map<String, String> form) {
    org.springframework.util.LinkedMultiValueMap<String, String> data = new org.springframework.util.LinkedMultiValueMap<>();
    form.forEach(data::add);
    return on.post().uri(path).contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData(data)).exchange();
  }

  long deadLetter(String queue, Object payload, String error) {
    long id = store.producer(queue).build().enqueue(payload).block(T);
    Message claimed = store.messages().claim(queue, 1).block(T).get(0);
    assertThat(claimed.id()).isEqualTo(id);
    assertThat(store.messages().deadLetter(claimed.lease(), error).block(T)).isTrue();
    return id;
  }

  @Test
  void overviewShowsEveryQueueWithItsDepthAndTheScriptAndStyleAreServed() {
    store.queues().create("dash_overview").block(T);
    store.producer("dash_overview").build().enqueuePayloads(List.of(Map.of("n", 1), Map.of("n", 2))).block(T);

    Message first = store.messages().claim("dash_overview", 1).block(T).get(0);
    assertThat(store.messages().archive(first.lease()).block(T)).isTrue();

    String page = get("/pgqrs", 200);
    assertThat(page).containsPattern("<tr data-queue=\"dash_overview\">.*?<td class=\"throughput\"><svg class=\"chart\""
            + "[^>]*data-archived=\"1\"><title>1 archived in the last 60 minutes</title>.*?<rect .*?</svg>"
            + " <span class=\"throughput-total\">1</span></td></tr>")
        .contains("href=\"/pgqrs/queues/dash_overview\"")
        .contains("/pgqrs/static/dashboard.js").contains("/pgqrs/static/dashboard.css");
    assertThat(get("/pgqrs/queues/dash_overview", 200)).contains("id=\"throughput\"").contains("width=\"600\"")
        .contains("data-archived=\"1\"");
    assertThat(get("/pgqrs/static/dashboard.js", 200)).contains("EventSource");
    client.get().uri("/pgqrs/static/dashboard.css").exchange().expectStatus().isOk();
    assertThat(get("/pgqrs/workers", 200)).contains("<h1>Workers</h1>");
    assertThat(get("/pgqrs/runs", 200)).contains("<h1>Runs</h1>");
  }

  @Test
  void hostilePayloadsErrorsAndNamesAreEscapedOnEveryPage() {
    String q = "dash_hostile";
    store.queues().create(q).block(T);
    deadLetter(q, Map.of("html", HOSTILE), "failed: " + HOSTILE);
    store.producer(q).build().enqueue(Map.of("live", HOSTILE)).block(T);
    store.workers().register("worker " + HOSTILE, q).block(T);

    for (String page : List.of(get("/pgqrs/queues/" + q, 200), get("/pgqrs/workers", 200), get("/pgqrs", 200))) {
      assertThat(page).doesNotContain("<script>alert").doesNotContain("<img src=x").doesNotContain("'x'");
    }
    assertThat(get("/pgqrs/queues/" + q, 200)).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;");
    assertThat(get("/pgqrs/workers", 200)).contains("worker &lt;script&gt;");
    // Reflected input is escaped too: a workflow name the store refuses (400) and a notice.
    assertThat(get("/pgqrs/runs?workflow=<script>", 400)).doesNotContain("<script>");
    assertThat(get("/pgqrs/queues/" + q + "?notice=<b>hi", 200)).doesNotContain("<b>hi").contains("&lt;b&gt;hi");
  }

  @Test
  void replayAsksForConfirmationThenReplaysAndPurgeEmptiesTheDeadLetters() {
    String q = "dash_replay";
    store.queues().create(q).block(T);
    long first = deadLetter(q, Map.of("n", 1), "boom 1");
    deadLetter(q, Map.of("n", 2), "boom 2");
    assertThat(get("/pgqrs/queues/" + q, 200)).contains("boom 1").contains("data-message=\"" + first + "\"");

    String confirm = post(client, "/pgqrs/queues/" + q + "/replay", Map.of("id", Long.toString(first)))
        .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
    assertThat(confirm).contains("name=\"confirm\" value=\"yes\"").contains("Replay dead letter " + first);
    assertThat(store.messages().get(first).block(T).state()).isEqualTo(MessageState.DEAD);

    post(client, "/pgqrs/queues/" + q + "/replay", Map.of("id", Long.toString(first), "confirm", "yes"))
        .expectStatus().isSeeOther().expectHeader().valueMatches(HttpHeaders.LOCATION, "/pgqrs/queues/" + q + "\\?notice=.*");
    Message replayed = store.messages().get(first).block(T);
    assertThat(replayed.state()).isEqualTo(MessageState.LIVE);
    assertThat(replayed.attempts()).isZero();
    post(client, "/pgqrs/queues/" + q + "/replay", Map.of("id", Long.toString(first), "confirm", "yes"))
        .expectStatus().isNotFound();

    post(client, "/pgqrs/queues/" + q + "/purge-dead", Map.of()).expectStatus().isOk();
    assertThat(store.queues().metrics(q).block(T).dead()).isEqualTo(1);
    post(client, "/pgqrs/queues/" + q + "/purge-dead", Map.of("confirm", "yes")).expectStatus().isSeeOther();
    assertThat(store.queues().metrics(q).block(T).dead()).isZero();
  }

  @Test
  void readOnlyModeRendersNoActionsAndRefusesThemWith403() {
    String q = "dash_read_only";
    store.queues().create(q).block(T);
    long id = deadLetter(q, Map.of("n", 1), "boom");
    WebTestClient readOnly = clientOf(PgqrsDashboard.builder(store).readOnly(true).build());

    String page = readOnly.get().uri("/pgqrs/queues/" + q).exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertThat(page).contains("boom").doesNotContain("method=\"post\"");
    post(readOnly, "/pgqrs/queues/" + q + "/replay", Map.of("id", Long.toString(id), "confirm", "yes"))
        .expectStatus().isForbidden();
    post(readOnly, "/pgqrs/queues/" + q + "/purge", Map.of("confirm", "yes")).expectStatus().isForbidden();
    post(readOnly, "/pgqrs/runs/1/cancel", Map.of("reason", "no")).expectStatus().isForbidden();
    assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.DEAD);
  }

  @Test
  void actionsPostedFromAnotherSiteAreRefusedWith403() {
    String q = "dash_cross_site";
    store.queues().create(q).block(T);
    long id = deadLetter(q, Map.of("n", 1), "boom");
    org.springframework.util.LinkedMultiValueMap<String, String> form = new org.springframework.util.LinkedMultiValueMap<>();
    form.add("confirm", "yes");
    form.add("id", Long.toString(id));

    client.post().uri("http://127.0.0.1:8080/pgqrs/queues/" + q + "/replay").header(HttpHeaders.ORIGIN, "https://evil.example")
        .contentType(MediaType.APPLICATION_FORM_URLENCODED).body(BodyInserters.fromFormData(form)).exchange()
        .expectStatus().isForbidden();
    client.post().uri("/pgqrs/queues/" + q + "/replay").header("Sec-Fetch-Site", "cross-site")
        .contentType(MediaType.APPLICATION_FORM_URLENCODED).body(BodyInserters.fromFormData(form)).exchange()
        .expectStatus().isForbidden();
    assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.DEAD);
    client.post().uri("http://127.0.0.1:8080/pgqrs/queues/" + q + "/replay").header(HttpHeaders.ORIGIN, "http://127.0.0.1:8080")
        .header("Sec-Fetch-Site", "same-origin")
        .contentType(MediaType.APPLICATION_FORM_URLENCODED).body(BodyInserters.fromFormData(form)).exchange()
        .expectStatus().isSeeOther();
    assertThat(store.messages().get(id).block(T).state()).isEqualTo(MessageState.LIVE);
  }

  @Test
  void anAccessTokenIsRequiredByHeaderOrOnceByQueryThenByCookie() {
    WebTestClient guarded = clientOf(PgqrsDashboard.builder(store).accessToken("t0ken-for-tests").build());

    guarded.get().uri("/pgqrs").exchange().expectStatus().isUnauthorized();
    guarded.get().uri("/pgqrs/events").exchange().expectStatus().isUnauthorized();
    guarded.get().uri("/pgqrs").header(HttpHeaders.AUTHORIZATION, "Bearer wrong-token").exchange()
        .expectStatus().isUnauthorized();
    guarded.get().uri("/pgqrs?token=wrong-token").exchange().expectStatus().isUnauthorized();
    guarded.get().uri("/pgqrs").header(HttpHeaders.AUTHORIZATION, "Bearer t0ken-for-tests").exchange()
        .expectStatus().isOk();
    guarded.get().uri("/pgqrs/workers?token=t0ken-for-tests").exchange().expectStatus().isSeeOther()
        .expectHeader().location("/pgqrs/workers")
        .expectCookie().valueEquals(DashboardRoutes.TOKEN_COOKIE, "t0ken-for-tests")
        .expectCookie().httpOnly(DashboardRoutes.TOKEN_COOKIE, true);
    guarded.get().uri("/pgqrs/workers").cookie(DashboardRoutes.TOKEN_COOKIE, "t0ken-for-tests").exchange()
        .expectStatus().isOk();
    guarded.get().uri("/pgqrs/workers").cookie(DashboardRoutes.TOKEN_COOKIE, "t0ken-for-test").exchange()
        .expectStatus().isUnauthorized();
  }

  @Test
  void unknownNamesAndIdsAre404AndBadInputIs400WithoutAStackTrace() {
    assertThat(get("/pgqrs/queues/no_such_queue", 404)).contains("no_such_queue").doesNotContain("at io.pgqrs");
    assertThat(get("/pgqrs/runs/999999999", 404)).contains("404");
    assertThat(get("/pgqrs/runs/not-a-number", 400)).contains("not a run id");
    assertThat(get("/pgqrs/runs?status=bogus", 400)).contains("unknown run status");
    assertThat(get("/pgqrs/runs?since=yesterday-ish", 400)).contains("is not a time");
    post(client, "/pgqrs/runs/999999999/signal", Map.of("name", "go", "value", "true")).expectStatus().isNotFound();
    post(client, "/pgqrs/runs/999999999/cancel", Map.of("reason", "r")).expectStatus().isNotFound();
    post(client, "/pgqrs/queues/no_such_queue/purge", Map.of("confirm", "yes")).expectStatus().isNotFound();
    post(client, "/pgqrs/queues/no_such_queue/replay", Map.of("all", "true")).expectStatus().isNotFound();
    get("/pgqrs/no/such/page", 404);
  }

  @Test
  void aRunPageShowsItsStepsAndTakesSignalsPauseAndCancel() {
    String name = "dash_checkout";
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

      assertThat(get("/pgqrs/runs?workflow=" + name + "&status=running&since=1h", 200))
          .contains("data-run=\"" + approved.runId() + "\"").contains("data-run=\"" + cancelled.runId() + "\"");
      assertThat(get("/pgqrs/runs?workflow=" + name + "&status=success", 200)).contains("No runs match");
      String page = get("/pgqrs/runs/" + approved.runId(), 200);
      assertThat(page).contains("data-step=\"charge\"").contains("charged order-1").contains("s-waiting")
          .contains("Send signal").contains("Cancel run");

      String path = "/pgqrs/runs/" + approved.runId();
      assertThat(post(client, path + "/signal", Map.of("name", "approved", "value", "{not json"))
          .expectStatus().isBadRequest().expectBody(String.class).returnResult().getResponseBody())
          .contains("not JSON");
      post(client, path + "/signal", Map.of("name", "approved", "value", "")).expectStatus().isBadRequest();
      post(client, path + "/signal", Map.of("name", "approved", "value", "true")).expectStatus().isSeeOther();
      assertThat(approved.result().block(T)).isEqualTo("charged order-1, approved");
      assertThat(get(path, 200)).contains("<table class=\"grid\" id=\"signals\">")
          .contains("<code>pgqrs.signal.approved</code>").doesNotContain("no-signals");
      post(client, path + "/pause", Map.of()).expectStatus().isEqualTo(409);

      String other = "/pgqrs/runs/" + cancelled.runId();
      assertThat(get(other, 200)).contains("No signals sent.");
      post(client, other + "/signal", Map.of("name", "note " + HOSTILE, "value", "{\"why\": \"" + HOSTILE.replace("\"", "\\\"") + "\"}"))
          .expectStatus().isSeeOther();
      assertThat(get(other, 200)).contains("note &lt;script&gt;").contains("s-pending").doesNotContain("<script>alert")
          .doesNotContain("<img src=x");
      post(client, other + "/pause", Map.of()).expectStatus().isSeeOther();
      assertThat(get(other, 200)).contains("Resume");
      post(client, other + "/resume", Map.of()).expectStatus().isSeeOther();
      post(client, other + "/cancel", Map.of("reason", "")).expectStatus().isBadRequest();
      post(client, other + "/cancel", Map.of("reason", "customer " + HOSTILE)).expectStatus().isSeeOther();
      StateWait.until("the run is cancelled", T, () -> store.runs().get(cancelled.runId()),
          r -> r.status() == RunStatus.CANCELLED);
      assertThat(get(other, 200)).contains("customer &lt;script&gt;").doesNotContain("<script>alert")
          .doesNotContain("Cancel run");
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void aFailedRunIsRestartedAndAFinishedOneForkedEachAfterConfirmationAndRefusedStatesAre409() {
    java.util.concurrent.atomic.AtomicBoolean fixed = new java.util.concurrent.atomic.AtomicBoolean();
    Workflow<String, String> workflow = store.runs().register(Workflows.define("dash_repair", String.class, String.class,
            (ctx, in) -> ctx.step("one", String.class, () -> Mono.just(in + "-1"))
                .flatMap(a -> ctx.step("two", String.class, () -> fixed.get() ? Mono.just(a + "-2")
                    : Mono.error(new IllegalStateException("bug in step two")))))
        .withStepOptions(io.pgqrs.workflow.StepOptions.noRetries())
        .withWorkflowRetries(io.pgqrs.workflow.StepOptions.noRetries())).block(T);
    WorkflowWorker worker = workflow.worker().concurrency(2).pollInterval(Duration.ofMillis(100)).start();
    try {
      long id = workflow.trigger("x").block(T).runId();
      StateWait.until("the run fails", T, () -> store.runs().get(id), r -> r.status() == RunStatus.ERROR);
      String path = "/pgqrs/runs/" + id;
      assertThat(get(path, 200)).contains("Restart run").contains("Fork from step")
          .contains("<option value=\"one\">one</option>").contains("<option value=\"two\">two</option>");
      WebTestClient readOnly = clientOf(PgqrsDashboard.builder(store).readOnly(true).build());
      assertThat(readOnly.get().uri(path).exchange().expectBody(String.class).returnResult().getResponseBody())
          .doesNotContain("Restart run").doesNotContain("Fork from step");
      post(readOnly, path + "/restart", Map.of("confirm", "yes")).expectStatus().isForbidden();
      post(readOnly, path + "/fork", Map.of("fromStep", "two", "confirm", "yes")).expectStatus().isForbidden();

      assertThat(post(client, path + "/restart", Map.of()).expectStatus().isOk().expectBody(String.class)
          .returnResult().getResponseBody()).contains("Restart run " + id + "?").contains("name=\"confirm\" value=\"yes\"");
      assertThat(store.runs().get(id).block(T).status()).isEqualTo(RunStatus.ERROR);
      fixed.set(true);
      post(client, path + "/restart", Map.of("confirm", "yes")).expectStatus().isSeeOther()
          .expectHeader().valueMatches(HttpHeaders.LOCATION, path + "\\?notice=.*");
      assertThat(workflow.run(id).result().block(T)).isEqualTo("x-1-2");
      assertThat(get(path, 200)).doesNotContain("Restart run").contains("Fork from step");
      post(client, path + "/restart", Map.of("confirm", "yes")).expectStatus().isEqualTo(409);

      post(client, path + "/fork", Map.of("confirm", "yes")).expectStatus().isBadRequest();
      post(client, path + "/fork", Map.of("fromStep", "nope", "confirm", "yes")).expectStatus().isBadRequest();
      assertThat(post(client, path + "/fork", Map.of("fromStep", "two")).expectStatus().isOk().expectBody(String.class)
          .returnResult().getResponseBody()).contains("Fork run " + id + " from step &#39;two&#39;?")
          .contains("name=\"fromStep\" value=\"two\"");
      String location = post(client, path + "/fork", Map.of("fromStep", "two", "confirm", "yes")).expectStatus().isSeeOther()
          .returnResult(Void.class).getResponseHeaders().getFirst(HttpHeaders.LOCATION);
      java.util.regex.Matcher forked = java.util.regex.Pattern.compile("/pgqrs/runs/(\\d+)\\?notice=.*").matcher(location);
      assertThat(forked.matches()).as(location).isTrue();
      long forkId = Long.parseLong(forked.group(1));
      assertThat(forkId).isNotEqualTo(id);
      assertThat(workflow.run(forkId).result().block(T)).isEqualTo("x-1-2");

      post(client, "/pgqrs/runs/999999999/restart", Map.of("confirm", "yes")).expectStatus().isNotFound();
      post(client, "/pgqrs/runs/999999999/fork", Map.of("fromStep", "one", "confirm", "yes")).expectStatus().isNotFound();
      worker.stop().block(T);
      long queued = workflow.trigger("later").block(T).runId();
      post(client, "/pgqrs/runs/" + queued + "/fork", Map.of("fromStep", "one", "confirm", "yes"))
          .expectStatus().isEqualTo(409);
    } finally {
      worker.stop().block(T);
    }
  }

  @Test
  void theEventStreamSendsTheOverviewsNumbers() {
    store.queues().create("dash_events").block(T);
    store.producer("dash_events").build().enqueue(Map.of("n", 1)).block(T);

    var events = client.get().uri("/pgqrs/events").accept(MediaType.TEXT_EVENT_STREAM).exchange()
        .expectStatus().isOk()
        .returnResult(new ParameterizedTypeReference<ServerSentEvent<String>>() {}).getResponseBody();
    StepVerifier.create(events.take(2))
        .assertNext(e -> {
          assertThat(e.event()).isEqualTo("metrics");
          assertThat(e.data()).contains("\"queue\":\"dash_events\"").contains("\"totals\"");
        })
        .assertNext(e -> assertThat(e.event()).isEqualTo("metrics"))
        .expectComplete()
        .verify(T);
  }

  @Test
  void badOptionsAreRefusedWithTypedErrors() {
    assertThatThrownBy(() -> PgqrsDashboard.builder(store).basePath("no-slash")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> PgqrsDashboard.builder(store).basePath("/a b")).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> PgqrsDashboard.builder(store).accessToken("short")).isInstanceOf(InvalidArgumentException.class);
    assertThat(PgqrsDashboard.builder(store).basePath("/ops/pgqrs/").build().basePath()).isEqualTo("/ops/pgqrs");
    PgqrsDashboard open = PgqrsDashboard.builder(store).build();
    assertThatThrownBy(() -> DashboardServer.builder(open).bind("0.0.0.0").build())
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("requires an access token");
    assertThatThrownBy(() -> DashboardServer.builder(open).bind("example.org").build())
        .isInstanceOf(ConfigurationException.class);
    DashboardServer.builder(open).bind("localhost").build();
    DashboardServer.builder(open).bind("::1").build();
    DashboardServer.builder(PgqrsDashboard.builder(store).accessToken("t0ken-for-tests").build()).bind("0.0.0.0").build();
    assertThat(PgqrsDashboard.builder(store).accessToken("t0ken-for-tests").build().toString()).doesNotContain("t0ken");

    PgqrsDashboard mounted = PgqrsDashboard.builder(store).basePath("/ops").build();
    clientOf(mounted).get().uri("/ops").exchange().expectStatus().isOk();
    clientOf(mounted).get().uri("/pgqrs").exchange().expectStatus().isNotFound();
  }

  private void awaitSignalWait(long runId) {
    StateWait.until("run " + runId + " waits for its signal", T, () -> store.runs().steps(runId).collectList(),
        steps -> steps.stream().map(StepInfo::status).toList().equals(List.of(StepStatus.SUCCESS, StepStatus.WAITING)));
  }
}
