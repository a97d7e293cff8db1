package io.pgqrs.spring.actuate;

import io.pgqrs.Store;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.worker.WorkerInfo;
import io.pgqrs.workflow.RunInfo;
import io.pgqrs.workflow.RunQuery;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import reactor.core.publisher.Mono;

/**
 * The {@code pgqrs} actuator endpoint: every queue with its options and metrics, every worker,
 * and the most recent workflow runs. Values are plain maps, lists, strings and numbers (instants
 * and durations in ISO-8601), so they render the same with any JSON mapper; payloads, inputs and
 * outputs are left out.
 */
@Endpoint(id = "pgqrs")
public class PgqrsEndpoint {

  /** How many of the most recent runs the report lists. */
  static final int RECENT_RUNS = 20;

  private final Store store;

  /**
   * Creates the endpoint.
   *
   * @param store the store to report on
   */
  public PgqrsEndpoint(Store store) {
    this.store = store;
  }

  /**
   * Reads the report. Cold: each subscription reads the store again (one metrics query per
   * queue; metrics scan a queue's rows, archive included). Errors are the store's.
   *
   * @return a map with {@code backend}, {@code schema}, {@code queues}, {@code workers} and
   *     {@code recentRuns}
   */
  @ReadOperation
  public Mono<Map<String, Object>> report() {
    Mono<List<Map<String, Object>>> queues = store.queues().list()
        .concatMap(queue -> store.queues().metrics(queue.name()).map(metrics -> queue(queue, metrics)))
        .collectList();
    Mono<List<Map<String, Object>>> workers = store.workers().list(null).map(PgqrsEndpoint::worker).collectList();
    Mono<List<Map<String, Object>>> runs = store.runs().list(RunQuery.all().withLimit(RECENT_RUNS))
        .map(PgqrsEndpoint::run).collectList();
    return Mono.zip(queues, workers, runs).map(all -> {
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("backend", store.config().backend());
      report.put("schema", store.config().schema());
      report.put("queues", all.getT1());
      report.put("workers", all.getT2());
      report.put("recentRuns", all.getT3());
      return report;
    });
  }

  private static Map<String, Object> queue(QueueInfo queue, QueueMetrics metrics) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", queue.name());
    m.put("maxAttempts", queue.maxAttempts());
    putIfSet(m, "maxLeased", queue.maxLeased());
    putIfSet(m, "maxClaimsPerSecond", queue.maxClaimsPerSecond());
    putIfSet(m, "maxLeasedPerKey", queue.maxLeasedPerKey());
    m.put("createdAt", text(queue.createdAt()));
    m.put("pending", metrics.pending());
    m.put("leased", metrics.leased());
    m.put("delayed", metrics.delayed());
    m.put("archived", metrics.archived());
    m.put("dead", metrics.dead());
    putIfSet(m, "oldestPendingAge", text(metrics.oldestPendingAge()));
    return m;
  }

  private static Map<String, Object> worker(WorkerInfo worker) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", worker.id());
    m.put("name", worker.name());
    putIfSet(m, "queue", worker.queue());
    m.put("hostname", worker.hostname());
    m.put("pid", worker.pid());
    m.put("status", worker.status().name());
    m.put("startedAt", text(worker.startedAt()));
    m.put("heartbeatAt", text(worker.heartbeatAt()));
    putIfSet(m, "stoppedAt", text(worker.stoppedAt()));
    return m;
  }

  private static Map<String, Object> run(RunInfo run) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", run.id());
    m.put("workflow", run.workflow());
    m.put("status", run.status().name());
    putIfSet(m, "version", run.version());
    m.put("attempts", run.attempts());
    m.put("createdAt", text(run.createdAt()));
    putIfSet(m, "startedAt", text(run.startedAt()));
    putIfSet(m, "finishedAt", text(run.finishedAt()));
    putIfSet(m, "error", run.error());
    return m;
  }

  private static void putIfSet(Map<String, Object> m, String key, @Nullable Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  private static @Nullable String text(@Nullable Instant instant) {
    return instant == null ? null : instant.toString();
  }

  private static @Nullable String text(@Nullable Duration duration) {
    return duration == null ? null : duration.toString();
  }
}
