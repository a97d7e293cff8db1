package io.pgqrs.dashboard;

import static io.pgqrs.dashboard.Html.abbreviated;
import static io.pgqrs.dashboard.Html.text;
import static io.pgqrs.dashboard.Html.url;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Store;
import io.pgqrs.admin.SystemMetrics;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageNotFoundException;
import io.pgqrs.queue.MessageState;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueNotEmptyException;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.queue.ThroughputBucket;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.worker.InvalidWorkerStateException;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.worker.WorkerNotFoundException;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunQuery;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.SignalInfo;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.WorkflowNotFoundException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseCookie;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The routes and pages of one {@link PgqrsDashboard}. */
final class DashboardRoutes {

  static final String TOKEN_COOKIE = "pgqrs_dashboard_token";
  static final Duration EVENT_INTERVAL = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(DashboardRoutes.class);
  private static final MediaType HTML = new MediaType("text", "html", StandardCharsets.UTF_8);
  private static final int PAGE = 50;
  private static final int RUN_PAGE = 100;
  private static final int SHORT = 80;
  private static final Duration THROUGHPUT_WINDOW = Duration.ofHours(1);
  private static final Duration THROUGHPUT_BUCKET = Duration.ofMinutes(1);
  private static final Pattern RELATIVE = Pattern.compile("(\\d{1,6})([smhd])");

  private final Store store;
  private final String base;
  private final boolean readOnly;
  private final byte @Nullable [] token;

  DashboardRoutes(Store store, String base, boolean readOnly, @Nullable String token) {
    this.store = store;
    this.base = base;
    this.readOnly = readOnly;
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  RouterFunction<ServerResponse> router() {
    RouterFunction<ServerResponse> routes = RouterFunctions.route()
        .GET(Html.root(base), this::overview)
        .GET(base + "/events", this::events)
        .GET(base + "/queues/{queue}", this::queue)
        .POST(base + "/queues/{queue}/replay", action(this::replay))
        .POST(base + "/queues/{queue}/purge-dead", action(this::purgeDead))
        .POST(base + "/queues/{queue}/purge", action(this::purgeLive))
        .GET(base + "/runs", this::runs)
        .GET(base + "/runs/{run}", this::run)
        .POST(base + "/runs/{run}/cancel", action(this::cancel))
        .POST(base + "/runs/{run}/pause", action(this::pause))
        .POST(base + "/runs/{run}/resume", action(this::resume))
        .POST(base + "/runs/{run}/signal", action(this::signal))
        .POST(base + "/runs/{run}/restart", action(this::restart))
        .POST(base + "/runs/{run}/fork", action(this::fork))
        .GET(base + "/workers", this::workers)
        .build()
        .and(RouterFunctions.resources(base + "/static/**", new ClassPathResource("io/pgqrs/dashboard/static/")))
        .filter((request, next) -> next.handle(request).onErrorResume(this::failure));
    return token == null ? routes : routes.filter((request, next) -> authorize(request, next::handle));
  }

  // ---------------------------------------------------------------------------------------------
  // Access

  private Mono<ServerResponse> authorize(ServerRequest request, HandlerFunction<ServerResponse> next) {
    String header = request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.startsWith("Bearer ") && matches(header.substring(7).trim())) {
      return handle(next, request);
    }
    Optional<String> query = request.queryParam("token");
    if (query.isPresent() && matches(query.get())) {
      // Once: the cookie carries it from now on, and the address without it is what the browser keeps.
      URI clean = UriComponentsBuilder.fromUri(request.uri()).replaceQueryParam("token").build(true).toUri();
      ResponseCookie cookie = ResponseCookie.from(TOKEN_COOKIE, query.get())
          .httpOnly(true).sameSite("Strict").path(Html.root(base)).build();
      return ServerResponse.seeOther(clean).cookie(cookie).build();
    }
    HttpCookie cookie = request.cookies().getFirst(TOKEN_COOKIE);
    if (cookie != null && matches(cookie.getValue())) {
      return handle(next, request);
    }
    return error(HttpStatus.UNAUTHORIZED, "Access token required",
        "This dashboard needs its access token: open it with ?token=… once, or send Authorization: Bearer ….");
  }

  private static Mono<ServerResponse> handle(HandlerFunction<ServerResponse> next, ServerRequest request) {
    try {
      return next.handle(request);
    } catch (Exception e) {
      return Mono.error(e);
    }
  }

  private boolean matches(String candidate) {
    byte[] expected = token;
    return expected != null && MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * An action's handler, refused with 403 before it reads anything in read-only mode, and when the
   * browser says the form came from another site: a page elsewhere must not be able to post to a
   * dashboard on the loopback interface (cross-site request forgery).
   */
  private HandlerFunction<ServerResponse> action(HandlerFunction<ServerResponse> handler) {
    return request -> {
      if (readOnly) {
        return error(HttpStatus.FORBIDDEN, "Read-only", "This dashboard is read-only: actions are refused.");
      }
      if (crossSite(request)) {
        return error(HttpStatus.FORBIDDEN, "Cross-site request", "Actions are only taken from the dashboard's own pages.");
      }
      return handler.handle(request);
    };
  }

  /**
   * What the browser says of the request's origin: another site's page, or an Origin whose host is
   * not the request's. Hosts only: behind a proxy that ends TLS the scheme and port differ.
   */
  private static boolean crossSite(ServerRequest request) {
    String fetchSite = request.headers().firstHeader("Sec-Fetch-Site");
    if (fetchSite != null && fetchSite.equalsIgnoreCase("cross-site")) {
      return true;
    }
    String origin = request.headers().firstHeader(HttpHeaders.ORIGIN);
    String host = request.uri().getHost();
    if (origin == null || host == null) {
      return false;
    }
    try {
      String from = URI.create(origin).getHost();
      return from == null || !from.equalsIgnoreCase(host);
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Overview and its live numbers

  private Mono<ServerResponse> overview(ServerRequest request) {
    Mono<SystemMetrics> metrics = store.admin().systemMetrics();
    Mono<List<WorkerHealth>> health = store.workers().health(store.config().workerStaleAfter()).collectList();
    return Mono.zip(metrics, health).flatMap(t -> throughputs(t.getT1().perQueue()).flatMap(hours -> {
      SystemMetrics m = t.getT1();
      StringBuilder b = new StringBuilder();
      b.append("<h1>Overview</h1><section class=\"cards\">");
      card(b, "queues", "Queues", m.queues());
      depthCards(b, m.pending(), m.leased(), m.delayed(), m.archived(), m.dead(), m.oldestPendingAge());
      b.append("<div class=\"card\"><div class=\"label\">Workers ready / suspended / stopped</div>")
          .append("<div class=\"value\" data-total=\"workers\">").append(m.workersReady()).append(" / ")
          .append(m.workersSuspended()).append(" / ").append(m.workersStopped()).append("</div></div>");
      b.append("</section><p class=\"live\"><span id=\"live\" class=\"dot\"></span> live: updated every second</p>");
      b.append("<h2>Queues</h2><table class=\"grid\"><thead><tr><th>Queue</th><th>Pending</th><th>Leased</th>")
          .append("<th>Delayed</th><th>Archived</th><th>Dead</th><th>Oldest pending</th><th>Archived, last hour</th>")
          .append("</tr></thead>")
          .append("<tbody id=\"queues\">");
      for (QueueMetrics q : m.perQueue()) {
        b.append("<tr data-queue=\"").append(text(q.queue())).append("\"><td><a href=\"")
            .append(text(base + "/queues/" + url(q.queue()))).append("\">").append(text(q.queue())).append("</a></td>")
            .append(num("pending", q.pending())).append(num("leased", q.leased())).append(num("delayed", q.delayed()))
            .append(num("archived", q.archived())).append(num("dead", q.dead()))
            .append("<td data-field=\"oldest\">").append(text(Html.duration(q.oldestPendingAge()))).append("</td>")
            .append("<td class=\"throughput\">");
        List<ThroughputBucket> hour = hours.get(q.queue());
        if (hour != null) {
          throughputChart(b, hour, 120, 24);
        }
        b.append("</td></tr>");
      }
      b.append("</tbody></table>");
      if (m.perQueue().isEmpty()) {
        b.append("<p class=\"empty\" id=\"no-queues\">No queues yet.</p>");
      }
      b.append("<h2>Workers</h2>");
      workerTable(b, t.getT2());
      return html(HttpStatus.OK, "Overview", "Overview", b);
    }));
  }

  /**
   * Each queue's archived messages per minute over the last hour, four queues read at a time; a
   * queue deleted since the metrics were read is left out.
   */
  private Mono<java.util.Map<String, List<ThroughputBucket>>> throughputs(List<QueueMetrics> queues) {
    return Flux.fromIterable(queues)
        .flatMap(q -> store.queues().throughput(q.queue(), THROUGHPUT_WINDOW, THROUGHPUT_BUCKET)
            .map(hour -> java.util.Map.entry(q.queue(), hour))
            .onErrorResume(QueueNotFoundException.class, e -> Mono.empty()), 4)
        .collectMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue);
  }

  /**
   * Archived messages per interval as an inline SVG bar chart of {@code width} by {@code height}
   * pixels, bars scaled to the busiest interval, with the window's total beside it. Drawn here: no
   * script, no library, nothing fetched.
   */
  private static void throughputChart(StringBuilder b, List<ThroughputBucket> buckets, int width, int height) {
    long total = 0;
    long most = 0;
    for (ThroughputBucket bucket : buckets) {
      total += bucket.archived();
      most = Math.max(most, bucket.archived());
    }
    double barWidth = (double) width / Math.max(1, buckets.size());
    b.append("<svg class=\"chart\" role=\"img\" width=\"").append(width).append("\" height=\"").append(height)
        .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height).append("\" data-archived=\"").append(total)
        .append("\"><title>").append(total).append(" archived in the last ")
        .append(Duration.between(buckets.get(0).start(), buckets.get(buckets.size() - 1).end()).toMinutes())
        .append(" minutes</title><line class=\"axis\" x1=\"0\" y1=\"").append(height - 0.5).append("\" x2=\"").append(width)
        .append("\" y2=\"").append(height - 0.5).append("\"/>");
    for (int i = 0; i < buckets.size(); i++) {
      ThroughputBucket bucket = buckets.get(i);
      if (bucket.archived() == 0) {
        continue;
      }
      double barHeight = Math.max(1, (double) bucket.archived() / most * (height - 1));
      b.append("<rect x=\"").append(String.format(Locale.ROOT, "%.2f", i * barWidth)).append("\" y=\"")
          .append(String.format(Locale.ROOT, "%.2f", height - barHeight)).append("\" width=\"")
          .append(String.format(Locale.ROOT, "%.2f", Math.max(0.5, barWidth - 0.5))).append("\" height=\"")
          .append(String.format(Locale.ROOT, "%.2f", barHeight)).append("\"><title>").append(bucket.archived())
          .append(" from ").append(text(bucket.start().toString())).append("</title></rect>");
    }
    b.append("</svg> <span class=\"throughput-total\">").append(total).append("</span>");
  }

  /** The counts by state and the oldest pending age, as cards the overview's script can update. */
  private static void depthCards(StringBuilder b, long pending, long leased, long delayed, long archived, long dead,
      @Nullable Duration oldest) {
    card(b, "pending", "Pending", pending);
    card(b, "leased", "Leased", leased);
    card(b, "delayed", "Delayed", delayed);
    card(b, "archived", "Archived", archived);
    card(b, "dead", "Dead", dead);
    b.append("<div class=\"card\"><div class=\"label\">Oldest pending</div><div class=\"value\" data-total=\"oldest\">")
        .append(text(Html.duration(oldest))).append("</div></div>");
  }

  private static void card(StringBuilder b, String field, String label, long value) {
    b.append("<div class=\"card\"><div class=\"label\">").append(label).append("</div><div class=\"value\" data-total=\"")
        .append(field).append("\">").append(value).append("</div></div>");
  }

  private static String num(String field, long value) {
    return "<td class=\"num\" data-field=\"" + field + "\">" + value + "</td>";
  }

  /**
   * The overview's numbers as server-sent events, one {@code metrics} event a second; a failed
   * read is one {@code failure} event and the stream goes on. Cancelled when the client goes.
   */
  private Mono<ServerResponse> events(ServerRequest request) {
    Flux<ServerSentEvent<String>> events = Flux.interval(Duration.ZERO, EVENT_INTERVAL)
        .onBackpressureDrop()
        .concatMap(tick -> store.admin().systemMetrics()
            .map(m -> ServerSentEvent.builder(metricsJson(m)).event("metrics").build())
            .onErrorResume(e -> Mono.just(ServerSentEvent.builder(String.valueOf(e.getMessage()))
                .event("failure").build())), 1);
    return ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
        .header(HttpHeaders.CACHE_CONTROL, "no-cache")
        .body(events, new org.springframework.core.ParameterizedTypeReference<ServerSentEvent<String>>() {});
  }

  private String metricsJson(SystemMetrics m) {
    ObjectNode root = store.objectMapper().createObjectNode();
    ObjectNode totals = root.putObject("totals");
    totals.put("queues", m.queues()).put("pending", m.pending()).put("leased", m.leased())
        .put("delayed", m.delayed()).put("archived", m.archived()).put("dead", m.dead())
        .put("oldest", Html.duration(m.oldestPendingAge()))
        .put("workers", m.workersReady() + " / " + m.workersSuspended() + " / " + m.workersStopped());
    ArrayNode queues = root.putArray("queues");
    for (QueueMetrics q : m.perQueue()) {
      queues.addObject().put("queue", q.queue()).put("pending", q.pending()).put("leased", q.leased())
          .put("delayed", q.delayed()).put("archived", q.archived()).put("dead", q.dead())
          .put("oldest", Html.duration(q.oldestPendingAge()));
    }
    return root.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // A queue

  private Mono<ServerResponse> queue(ServerRequest request) {
    String queue = request.pathVariable("queue");
    return store.queues().metrics(queue).flatMap(m -> Mono.zip(
            store.messages().list(queue, MessageState.LIVE, 0, PAGE).collectList(),
            store.deadLetters().list(queue, 0, PAGE).collectList(),
            store.messages().list(queue, MessageState.ARCHIVED, 0, PAGE).collectList(),
            store.queues().throughput(queue, THROUGHPUT_WINDOW, THROUGHPUT_BUCKET))
        .flatMap(lists -> {
          StringBuilder b = new StringBuilder();
          b.append("<h1>Queue <span class=\"name\">").append(text(queue)).append("</span></h1>");
          notice(b, request);
          b.append("<section class=\"cards\">");
          depthCards(b, m.pending(), m.leased(), m.delayed(), m.archived(), m.dead(), m.oldestPendingAge());
          b.append("</section>");
          b.append("<h2>Archived per minute, last hour</h2><p class=\"throughput\" id=\"throughput\">");
          throughputChart(b, lists.getT4(), 600, 80);
          b.append("</p>");
          String path = base + "/queues/" + url(queue);
          b.append("<h2>Dead letters</h2>");
          if (!readOnly && !lists.getT2().isEmpty()) {
            b.append("<div class=\"actions\">");
            form(b, path + "/replay", "Replay all dead letters", "replay-all", "<input type=\"hidden\" name=\"all\" value=\"true\">");
            form(b, path + "/purge-dead", "Purge dead letters", "purge-dead danger", "");
            b.append("</div>");
          }
          messageTable(b, lists.getT2(), true, path);
          b.append("<h2>Live messages</h2>");
          if (!readOnly && m.live() > 0) {
            b.append("<div class=\"actions\">");
            form(b, path + "/purge", "Purge live messages", "purge-live danger", "");
            b.append("</div>");
          }
          messageTable(b, lists.getT1(), false, path);
          b.append("<h2>Archived (first ").append(PAGE).append(")</h2>");
          messageTable(b, lists.getT3(), false, path);
          return html(HttpStatus.OK, "Queue " + queue, "Overview", b);
        }));
  }

  private void messageTable(StringBuilder b, List<Message> messages, boolean dead, String queuePath) {
    if (messages.isEmpty()) {
      b.append("<p class=\"empty\">None.</p>");
      return;
    }
    b.append("<table class=\"grid messages\"><thead><tr><th>Id</th><th>State</th><th>Attempts</th><th>Enqueued</th>")
        .append(dead ? "<th>Dead at</th><th>Last error</th>" : "<th>Visible at</th><th>Last error</th>")
        .append("<th>Payload</th>").append(dead && !readOnly ? "<th></th>" : "").append("</tr></thead><tbody>");
    for (Message msg : messages) {
      b.append("<tr data-message=\"").append(msg.id()).append("\"><td class=\"num\">").append(msg.id()).append("</td><td>")
          .append(text(msg.state())).append("</td><td class=\"num\">").append(msg.attempts()).append("</td><td>")
          .append(Html.time(msg.enqueuedAt())).append("</td><td>")
          .append(Html.time(dead ? msg.deadAt() : msg.visibleAt())).append("</td><td class=\"error\">")
          .append(abbreviated(msg.lastError(), 200)).append("</td><td><code>")
          .append(abbreviated(msg.payload(), 200)).append("</code></td>");
      if (dead && !readOnly) {
        b.append("<td>");
        form(b, queuePath + "/replay", "Replay", "replay",
            "<input type=\"hidden\" name=\"id\" value=\"" + msg.id() + "\">");
        b.append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</tbody></table>");
  }

  private static void form(StringBuilder b, String action, String label, String cls, String fields) {
    b.append("<form method=\"post\" class=\"inline\" action=\"").append(text(action)).append("\">").append(fields)
        .append("<button type=\"submit\" class=\"").append(text(cls)).append("\">").append(text(label))
        .append("</button></form>");
  }

  private Mono<ServerResponse> replay(ServerRequest request) {
    String queue = request.pathVariable("queue");
    return request.formData().flatMap(form -> store.queues().get(queue).flatMap(info -> {
      boolean all = "true".equals(form.getFirst("all"));
      Long id = all ? null : longField(form, "id");
      if (!all && id == null) {
        return Mono.error(new InvalidArgumentException("id", "give the id of the dead letter to replay, or all=true"));
      }
      String what = all ? "every dead letter of queue '" + queue + "'" : "dead letter " + id + " of queue '" + queue + "'";
      if (!confirmed(form)) {
        return confirm(queue, "replay", "Replay " + what + "?",
            "Replayed messages become claimable at once, with their attempts reset.", form);
      }
      Mono<Long> replayed = id == null ? store.deadLetters().replayAll(queue)
          : store.messages().get(id).flatMap(msg -> msg.queue().equals(queue) && msg.state() == MessageState.DEAD
              ? store.deadLetters().replay(queue, List.of(msg.id()))
              : Mono.error(new MessageNotFoundException(id, "message " + id
                  + " is not a dead letter of queue '" + queue + "'")));
      return replayed.flatMap(n -> done(base + "/queues/" + url(queue), "replayed " + plural(n, "message")));
    }));
  }

  private Mono<ServerResponse> purgeDead(ServerRequest request) {
    return purge(request, "purge-dead", "dead letter", "Purge every dead letter of queue '%s'?",
        "They are deleted for good: payloads and errors are lost.", store.deadLetters()::purge);
  }

  private Mono<ServerResponse> purgeLive(ServerRequest request) {
    return purge(request, "purge", "live message", "Purge every live message of queue '%s'?",
        "Pending, leased and delayed messages are deleted for good; archived and dead ones stay.", store.queues()::purge);
  }

  /** A purge of the request's queue: the confirmation step first, then {@code purge} and back to the queue. */
  private Mono<ServerResponse> purge(ServerRequest request, String action, String what, String question, String detail,
      Function<String, Mono<Long>> purge) {
    String queue = request.pathVariable("queue");
    return request.formData().flatMap(form -> store.queues().get(queue).flatMap(info -> confirmed(form)
        ? purge.apply(queue).flatMap(n -> done(base + "/queues/" + url(queue), "purged " + plural(n, what)))
        : confirm(queue, action, String.format(Locale.ROOT, question, queue), detail, form)));
  }

  private static boolean confirmed(MultiValueMap<String, String> form) {
    return "yes".equals(form.getFirst("confirm"));
  }

  /** The confirmation step of an action on a queue's page. */
  private Mono<ServerResponse> confirm(String queue, String action, String question, String detail,
      MultiValueMap<String, String> form) {
    String queuePath = base + "/queues/" + url(queue);
    return confirm(queuePath + "/" + action, queuePath, action, "Overview", question, detail, form);
  }

  /**
   * The confirmation step: the same form posted again to {@code actionPath} with {@code confirm=yes},
   * and a way back to {@code back}.
   */
  private Mono<ServerResponse> confirm(String actionPath, String back, String action, String active, String question,
      String detail, MultiValueMap<String, String> form) {
    StringBuilder b = new StringBuilder("<section class=\"confirm\"><h1>").append(text(question)).append("</h1><p>")
        .append(text(detail)).append("</p><form method=\"post\" action=\"").append(text(actionPath))
        .append("\">");
    form.forEach((name, values) -> {
      if (!name.equals("confirm")) {
        for (String value : values) {
          b.append("<input type=\"hidden\" name=\"").append(text(name)).append("\" value=\"").append(text(value))
              .append("\">");
        }
      }
    });
    b.append("<input type=\"hidden\" name=\"confirm\" value=\"yes\">")
        .append("<button type=\"submit\" class=\"confirm danger\">Yes, ").append(text(action.replace('-', ' ')))
        .append("</button> <a class=\"cancel\" href=\"").append(text(back)).append("\">Cancel</a></form></section>");
    return html(HttpStatus.OK, "Confirm", active, b);
  }

  // ---------------------------------------------------------------------------------------------
  // Runs

  private Mono<ServerResponse> runs(ServerRequest request) {
    String workflow = blankToNull(request.queryParam("workflow").orElse(null));
    String statusText = blankToNull(request.queryParam("status").orElse(null));
    String sinceText = blankToNull(request.queryParam("since").orElse(null));
    String untilText = blankToNull(request.queryParam("until").orElse(null));
    String beforeText = blankToNull(request.queryParam("before").orElse(null));
    RunStatus status;
    Instant since;
    Instant until;
    Long before;
    try {
      status = statusText == null ? null : RunStatus.valueOf(statusText.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return Mono.error(new InvalidArgumentException("status", "unknown run status '" + statusText + "'"));
    }
    try {
      since = instant("since", sinceText);
      until = instant("until", untilText);
      before = beforeText == null ? null : parseId("before", beforeText);
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    RunQuery query = RunQuery.all().withWorkflow(workflow).withStatus(status).withCreatedBetween(since, until)
        .withBeforeId(before).withLimit(RUN_PAGE);
    return store.runs().list(query).collectList().flatMap(runs -> {
      StringBuilder b = new StringBuilder("<h1>Runs</h1><form class=\"filter\" method=\"get\" action=\"")
          .append(text(base + "/runs")).append("\"><label>Workflow <input name=\"workflow\" value=\"")
          .append(text(workflow)).append("\"></label><label>Status <select name=\"status\"><option value=\"\">any</option>");
      for (RunStatus s : RunStatus.values()) {
        b.append("<option").append(s == status ? " selected" : "").append('>').append(s).append("</option>");
      }
      b.append("</select></label><label>Since <input name=\"since\" placeholder=\"1h, 2025-01-31 or ISO\" value=\"")
          .append(text(sinceText)).append("\"></label><label>Until <input name=\"until\" value=\"").append(text(untilText))
          .append("\"></label><button type=\"submit\">Filter</button></form>");
      if (runs.isEmpty()) {
        b.append("<p class=\"empty\">No runs match.</p>");
      } else {
        b.append("<table class=\"grid\" id=\"runs\"><thead><tr><th>Id</th><th>Workflow</th><th>Status</th><th>Attempts</th>")
            .append("<th>Created</th><th>Started</th><th>Finished</th><th>Error</th></tr></thead><tbody>");
        for (RunInfo r : runs) {
          b.append("<tr data-run=\"").append(r.id()).append("\"><td><a href=\"").append(text(base + "/runs/" + r.id()))
              .append("\">").append(r.id()).append("</a></td><td>").append(text(r.workflow())).append("</td><td>")
              .append(status(r.status())).append("</td><td class=\"num\">").append(r.attempts()).append("</td><td>")
              .append(Html.time(r.createdAt())).append("</td><td>").append(Html.time(r.startedAt())).append("</td><td>")
              .append(Html.time(r.finishedAt())).append("</td><td class=\"error\">").append(abbreviated(r.error(), SHORT))
              .append("</td></tr>");
        }
        b.append("</tbody></table>");
        if (runs.size() == RUN_PAGE) {
          String next = UriComponentsBuilder.fromUri(request.uri()).replaceQueryParam("before", runs.get(runs.size() - 1).id())
              .build().toUriString();
          b.append("<p><a href=\"").append(text(next)).append("\">Older runs</a></p>");
        }
      }
      return html(HttpStatus.OK, "Runs", "Runs", b);
    });
  }

  private static String status(Object status) {
    return "<span class=\"status s-" + text(status.toString().toLowerCase(Locale.ROOT)) + "\">" + text(status) + "</span>";
  }

  private Mono<ServerResponse> run(ServerRequest request) {
    long id;
    try {
      id = parseId("run", request.pathVariable("run"));
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    return store.runs().get(id).flatMap(r -> Mono.zip(store.runs().steps(id).collectList(),
        store.runs().signals(id).collectList()).flatMap(t -> {
      List<StepInfo> steps = t.getT1();
      StringBuilder b = new StringBuilder("<h1>Run ").append(r.id()).append(" <span class=\"name\">")
          .append(text(r.workflow())).append("</span> ").append(status(r.status())).append("</h1>");
      notice(b, request);
      b.append("<dl class=\"fields\">");
      field(b, "Version", r.version());
      field(b, "Attempts", r.attempts() + " (" + r.failures() + " failed)");
      field(b, "Idempotency key", r.idempotencyKey());
      field(b, "Created", Html.time(r.createdAt()));
      field(b, "Started", Html.time(r.startedAt()));
      field(b, "Finished", Html.time(r.finishedAt()));
      field(b, "Deadline", r.deadline() == null ? null : Html.time(r.deadline()));
      b.append("<dt>Input</dt><dd><pre>").append(text(pretty(r.input()))).append("</pre></dd>");
      if (r.output() != null) {
        b.append("<dt>Output</dt><dd><pre>").append(text(pretty(r.output()))).append("</pre></dd>");
      }
      if (r.error() != null) {
        b.append("<dt>Error</dt><dd><pre class=\"error\">").append(text(r.error())).append("</pre></dd>");
      }
      b.append("</dl>");
      if (!readOnly && !r.status().isFinished()) {
        String path = base + "/runs/" + r.id();
        b.append("<section class=\"actions run-actions\">");
        form(b, path + "/cancel", "Cancel run", "cancel-run danger",
            "<input name=\"reason\" required placeholder=\"reason\" value=\"cancelled from the dashboard\">");
        if (r.status() == RunStatus.PAUSED) {
          form(b, path + "/resume", "Resume", "resume-run", "");
        } else {
          form(b, path + "/pause", "Pause", "pause-run", "");
        }
        form(b, path + "/signal", "Send signal", "signal-run",
            "<input name=\"name\" required placeholder=\"signal name\"><input name=\"value\" required placeholder=\"JSON value, like true\">");
        b.append("</section>");
      }
      if (!readOnly && r.status().isFinished()) {
        rerunActions(b, r, steps);
      }
      b.append("<h2>Steps</h2>");
      timeline(b, r, steps);
      b.append("<h2>Signals</h2>");
      signalTable(b, t.getT2());
      return html(HttpStatus.OK, "Run " + r.id(), "Runs", b);
    }));
  }

  /** Restart for a failed or cancelled run, fork from a chosen step for any finished one. */
  private void rerunActions(StringBuilder b, RunInfo r, List<StepInfo> steps) {
    String path = base + "/runs/" + r.id();
    b.append("<section class=\"actions rerun-actions\">");
    if (r.status() == RunStatus.ERROR || r.status() == RunStatus.CANCELLED) {
      form(b, path + "/restart", "Restart run", "restart-run", "");
    }
    if (!steps.isEmpty()) {
      StringBuilder picker = new StringBuilder("<select name=\"fromStep\" required aria-label=\"first step to run again\">");
      for (StepInfo s : steps) {
        picker.append("<option value=\"").append(text(s.stepId())).append("\">").append(text(s.stepId())).append("</option>");
      }
      form(b, path + "/fork", "Fork from step", "fork-run", picker.append("</select>").toString());
    }
    b.append("</section>");
  }

  /** The steps in the order begun, each a bar placed and sized on the run's span. */
  private void timeline(StringBuilder b, RunInfo run, List<StepInfo> steps) {
    if (steps.isEmpty()) {
      b.append("<p class=\"empty\">No steps recorded.</p>");
      return;
    }
    Instant now = store.config().clock().instant();
    Instant start = run.startedAt() != null ? run.startedAt() : steps.get(0).startedAt();
    for (StepInfo s : steps) {
      if (s.startedAt().isBefore(start)) {
        start = s.startedAt();
      }
    }
    Instant end = run.finishedAt() != null ? run.finishedAt() : now;
    for (StepInfo s : steps) {
      Instant stepEnd = stepEnd(s, now);
      if (stepEnd.isAfter(end)) {
        end = stepEnd;
      }
    }
    double span = Math.max(1, Duration.between(start, end).toMillis());
    b.append("<table class=\"grid timeline\" id=\"steps\"><thead><tr><th>Step</th><th>Status</th><th>Attempts</th>")
        .append("<th>Started</th><th>Duration</th><th class=\"bar-col\">Timeline</th><th>Output / error</th></tr></thead><tbody>");
    for (StepInfo s : steps) {
      Duration took = Duration.between(s.startedAt(), stepEnd(s, now));
      double left = Duration.between(start, s.startedAt()).toMillis() / span * 100;
      double width = Math.max(0.5, took.toMillis() / span * 100);
      b.append("<tr data-step=\"").append(text(s.stepId())).append("\"><td><code>").append(text(s.stepId()))
          .append("</code></td><td>").append(status(s.status())).append("</td><td class=\"num\">").append(s.attempts())
          .append("</td><td>").append(Html.time(s.startedAt())).append("</td><td>").append(text(Html.duration(took)))
          .append(s.wakeAt() != null ? "<br><small>wakes " + Html.time(s.wakeAt()) + "</small>" : "")
          .append("</td><td class=\"bar-col\"><div class=\"track\"><div class=\"bar s-")
          .append(text(s.status().toString().toLowerCase(Locale.ROOT))).append("\" style=\"margin-left:")
          .append(String.format(Locale.ROOT, "%.2f", Math.min(left, 99.5))).append("%;width:")
          .append(String.format(Locale.ROOT, "%.2f", Math.min(width, 100 - Math.min(left, 99.5)))).append("%\"></div></div></td><td>");
      if (s.output() != null) {
        b.append("<code>").append(abbreviated(s.output(), 200)).append("</code>");
      }
      if (s.error() != null) {
        b.append("<div class=\"error\">").append(abbreviated(s.error(), 300)).append("</div>");
      }
      b.append("</td></tr>");
    }
    b.append("</tbody></table>");
  }

  /** The run's signals, oldest first, each with the step that took it or as pending. */
  private static void signalTable(StringBuilder b, List<SignalInfo> signals) {
    if (signals.isEmpty()) {
      b.append("<p class=\"empty\" id=\"no-signals\">No signals sent.</p>");
      return;
    }
    b.append("<table class=\"grid\" id=\"signals\"><thead><tr><th>Id</th><th>Name</th><th>Value</th><th>Sent</th>")
        .append("<th>Consumed by</th></tr></thead><tbody>");
    for (SignalInfo g : signals) {
      b.append("<tr data-signal=\"").append(g.id()).append("\"><td class=\"num\">").append(g.id()).append("</td><td>")
          .append(text(g.name())).append("</td><td><code>").append(abbreviated(g.value(), 200)).append("</code></td><td>")
          .append(Html.time(g.sentAt())).append("</td><td>")
          .append(g.consumedBy() == null ? "<span class=\"status s-pending\">pending</span>"
              : "<code>" + text(g.consumedBy()) + "</code>")
          .append("</td></tr>");
    }
    b.append("</tbody></table>");
  }

  private static Instant stepEnd(StepInfo s, Instant now) {
    if (s.finishedAt() != null) {
      return s.finishedAt();
    }
    return switch (s.status()) {
      case RUNNING, WAITING, RETRY -> now.isAfter(s.startedAt()) ? now : s.startedAt();
      default -> s.updatedAt();
    };
  }

  private Mono<ServerResponse> cancel(ServerRequest request) {
    return runAction(request, (id, form) -> {
      String reason = blankToNull(form.getFirst("reason"));
      if (reason == null) {
        return Mono.error(new InvalidArgumentException("reason", "give a reason to cancel a run"));
      }
      return store.runs().cancel(id, reason).map(r -> "run is " + r.status());
    });
  }

  private Mono<ServerResponse> pause(ServerRequest request) {
    return runAction(request, (id, form) -> store.runs().pause(id).map(r -> "run is " + r.status()));
  }

  private Mono<ServerResponse> resume(ServerRequest request) {
    return runAction(request, (id, form) -> store.runs().resume(id).map(r -> "run is " + r.status()));
  }

  private Mono<ServerResponse> signal(ServerRequest request) {
    return runAction(request, (id, form) -> {
      String name = blankToNull(form.getFirst("name"));
      String value = blankToNull(form.getFirst("value"));
      if (name == null) {
        return Mono.error(new InvalidArgumentException("name", "give the signal's name"));
      }
      if (value == null) {
        return Mono.error(new InvalidArgumentException("value", "give the signal's value as JSON, like true or {\"ok\": 1}"));
      }
      JsonNode json;
      try {
        json = store.objectMapper().readTree(value);
      } catch (JsonProcessingException e) {
        return Mono.error(new InvalidArgumentException("value", "the signal's value is not JSON: "
            + e.getOriginalMessage()));
      }
      // Read first: an unknown run is a 404 before anything is sent.
      return store.runs().get(id).then(store.runs().signal(id, name, json)).thenReturn("sent signal '" + name + "'");
    });
  }

  /** Restarts a failed or cancelled run under its id, after the confirmation step; back to its page. */
  private Mono<ServerResponse> restart(ServerRequest request) {
    return rerun(request, "restart", (id, form) -> Mono.just("Restart run " + id + "?"),
        "Its successful steps replay from their records; the failed or unfinished ones execute again.",
        (id, form) -> store.runs().restart(id));
  }

  /** Forks a finished run from a chosen step into a new run, after the confirmation step; on to the new run's page. */
  private Mono<ServerResponse> fork(ServerRequest request) {
    return rerun(request, "fork", (id, form) -> {
      String fromStep = blankToNull(form.getFirst("fromStep"));
      return fromStep == null
          ? Mono.error(new InvalidArgumentException("fromStep", "choose the step to fork from"))
          : Mono.just("Fork run " + id + " from step '" + fromStep + "'?");
    }, "A new run of the same workflow, version and input re-executes from that step; the steps before it replay."
        + " This run is unchanged.",
        (id, form) -> store.runs().fork(id, Objects.requireNonNull(blankToNull(form.getFirst("fromStep")))));
  }

  /**
   * A restart or fork: the run is read first (404 for an unknown one, whatever the form says), then
   * the question is asked, then the action taken and the browser sent to the run it produced.
   */
  private Mono<ServerResponse> rerun(ServerRequest request, String action, RunAction question, String detail,
      RunRerun rerun) {
    long id;
    try {
      id = parseId("run", request.pathVariable("run"));
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    String path = base + "/runs/" + id;
    return request.formData().flatMap(form -> store.runs().get(id).then(question.apply(id, form)).flatMap(q ->
        confirmed(form)
            ? rerun.apply(id, form).flatMap(r -> done(base + "/runs/" + r.id(), action + ": run " + r.id() + " is " + r.status()))
            : confirm(path + "/" + action, path, action, "Runs", q, detail, form)));
  }

  private interface RunRerun {
    Mono<RunInfo> apply(long runId, MultiValueMap<String, String> form);
  }

  private interface RunAction {
    Mono<String> apply(long runId, MultiValueMap<String, String> form);
  }

  private Mono<ServerResponse> runAction(ServerRequest request, RunAction action) {
    long id;
    try {
      id = parseId("run", request.pathVariable("run"));
    } catch (InvalidArgumentException e) {
      return Mono.error(e);
    }
    return request.formData().flatMap(form -> action.apply(id, form))
        .flatMap(notice -> done(base + "/runs/" + id, notice));
  }

  // ---------------------------------------------------------------------------------------------
  // Workers

  private Mono<ServerResponse> workers(ServerRequest request) {
    return store.workers().health(store.config().workerStaleAfter()).collectList().flatMap(health -> {
      StringBuilder b = new StringBuilder("<h1>Workers</h1><p>Stale after ")
          .append(text(Html.duration(store.config().workerStaleAfter()))).append(" without a heartbeat.</p>");
      workerTable(b, health);
      return html(HttpStatus.OK, "Workers", "Workers", b);
    });
  }

  private static void workerTable(StringBuilder b, List<WorkerHealth> health) {
    if (health.isEmpty()) {
      b.append("<p class=\"empty\">No workers registered.</p>");
      return;
    }
    b.append("<table class=\"grid\" id=\"workers\"><thead><tr><th>Id</th><th>Name</th><th>Queue</th><th>Status</th>")
        .append("<th>Host</th><th>Pid</th><th>Since heartbeat</th><th>Leases</th><th>Health</th></tr></thead><tbody>");
    for (WorkerHealth h : health) {
      WorkerInfo w = h.worker();
      String verdict = h.healthy() ? "healthy" : h.stale() ? "stale" : "stopped";
      b.append("<tr data-worker=\"").append(w.id()).append("\"><td class=\"num\">").append(w.id()).append("</td><td>")
          .append(text(w.name())).append("</td><td>").append(text(w.queue())).append("</td><td>").append(status(w.status()))
          .append("</td><td>").append(text(w.hostname())).append("</td><td class=\"num\">").append(w.pid())
          .append("</td><td>").append(text(Html.duration(h.sinceHeartbeat()))).append("</td><td class=\"num\">")
          .append(h.leases()).append("</td><td><span class=\"health h-").append(verdict).append("\">").append(verdict)
          .append("</span></td></tr>");
    }
    b.append("</tbody></table>");
  }

  // ---------------------------------------------------------------------------------------------
  // Responses, input and errors

  private Mono<ServerResponse> html(HttpStatus status, String title, String active, CharSequence body) {
    return ServerResponse.status(status).contentType(HTML).header(HttpHeaders.CACHE_CONTROL, "no-store")
        .header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        .header("X-Content-Type-Options", "nosniff")
        .bodyValue(Html.page(base, title, active, body.toString()));
  }

  /** After an action: back to the page it was taken on, which shows what was done. */
  private static Mono<ServerResponse> done(String path, String notice) {
    return ServerResponse.seeOther(URI.create(path + "?notice=" + url(notice))).build();
  }

  private static void notice(StringBuilder b, ServerRequest request) {
    request.queryParam("notice").ifPresent(n -> b.append("<p class=\"notice\" id=\"notice\">").append(text(n)).append("</p>"));
  }

  private Mono<ServerResponse> error(HttpStatus status, String title, String message) {
    StringBuilder b = new StringBuilder("<section class=\"failure\"><h1>").append(status.value()).append(' ')
        .append(text(title)).append("</h1><p id=\"error\">").append(text(message)).append("</p></section>");
    return html(status, title, "", b);
  }

  /** Every error of a page or action as a page with its status; never a stack trace. */
  private Mono<ServerResponse> failure(Throwable e) {
    if (e instanceof QueueNotFoundException || e instanceof RunNotFoundException || e instanceof MessageNotFoundException
        || e instanceof WorkerNotFoundException || e instanceof WorkflowNotFoundException) {
      return error(HttpStatus.NOT_FOUND, "Not found", String.valueOf(e.getMessage()));
    }
    if (e instanceof InvalidArgumentException || e instanceof ValidationException) {
      return error(HttpStatus.BAD_REQUEST, "Bad request", String.valueOf(e.getMessage()));
    }
    if (e instanceof RunStateException || e instanceof InvalidWorkerStateException || e instanceof QueueNotEmptyException) {
      return error(HttpStatus.CONFLICT, "Refused", String.valueOf(e.getMessage()));
    }
    if (e instanceof org.springframework.web.server.ResponseStatusException rse) {
      HttpStatus status = HttpStatus.resolve(rse.getStatusCode().value());
      return error(status == null ? HttpStatus.BAD_REQUEST : status, "Request refused", String.valueOf(rse.getReason()));
    }
    LOG.warn("pgqrs dashboard: a request failed", e);
    return error(HttpStatus.INTERNAL_SERVER_ERROR, "The store failed",
        e.getClass().getSimpleName() + ": " + e.getMessage());
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static @Nullable Long longField(MultiValueMap<String, String> form, String name) {
    String value = blankToNull(form.getFirst(name));
    return value == null ? null : parseId(name, value);
  }

  private static long parseId(String what, String text) {
    try {
      long id = Long.parseLong(text.trim());
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // Reported below, with the text that was given.
    }
    throw new InvalidArgumentException(what, "not a " + what + " id: '" + text + "'");
  }

  /** ISO-8601, a date (UTC midnight), or a duration before now like {@code 30m}, {@code 2h}, {@code 7d}. */
  private @Nullable Instant instant(String field, @Nullable String text) {
    if (text == null) {
      return null;
    }
    Matcher relative = RELATIVE.matcher(text);
    if (relative.matches()) {
      long n = Long.parseLong(relative.group(1));
      Duration ago = switch (relative.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
      return store.config().clock().instant().minus(ago);
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException notAnInstant) {
      try {
        return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException notADate) {
        throw new InvalidArgumentException(field, "'" + text + "' is not a time: use ISO-8601 (2025-01-31T12:00:00Z),"
            + " a date (2025-01-31) or a duration before now (30m, 2h, 7d)");
      }
    }
  }

  private String pretty(JsonNode node) {
    try {
      return store.objectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (JsonProcessingException e) {
      return node.toString();
    }
  }

  private static void field(StringBuilder b, String label, @Nullable Object value) {
    if (value != null) {
      b.append("<dt>").append(text(label)).append("</dt><dd>").append(text(value)).append("</dd>");
    }
  }

  private static String plural(long n, String what) {
    return n + " " + what + (n == 1 ? "" : "s");
  }
}
