package io.pgqrs.spring.actuate;

import io.pgqrs.Store;
import io.pgqrs.worker.WorkerHealth;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import reactor.core.publisher.Mono;

/**
 * The {@code pgqrs} health of the application: UP when the database answers, the schema is
 * installed at the version this library expects ({@code store.admin().verify()}), and no worker
 * this application's store runs is stale (its last heartbeat older than the store's
 * {@code workerStaleAfter}: this process stopped beating). DOWN otherwise, with the reason in the
 * details; an error reaching the database is DOWN with the error. Cold: each subscription checks
 * again; cancelling abandons the check.
 *
 * <p>Stale workers of other processes (a process that died, whose workers maintenance stops after
 * {@code workerStaleAfter}) are listed in the details ({@code otherWorkersStale},
 * {@code otherStaleWorkers}) and leave the health UP: another process's death is no reason to
 * restart this one.
 */
public class PgqrsHealthIndicator extends AbstractReactiveHealthIndicator {

  /** The most one check waits for the database, so that a hung database reports DOWN. */
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);

  private final Store store;

  /**
   * Creates the indicator.
   *
   * @param store the store to check
   */
  public PgqrsHealthIndicator(Store store) {
    super("pgqrs health check failed");
    this.store = store;
  }

  @Override
  protected Mono<Health> doHealthCheck(Health.Builder builder) {
    Duration staleAfter = store.config().workerStaleAfter();
    return store.admin().verify()
        .flatMap(schema -> {
          builder.withDetail("backend", store.config().backend())
              .withDetail("schema", schema.schema())
              .withDetail("installedVersion", schema.installedVersion())
              .withDetail("expectedVersion", schema.expectedVersion());
          if (!schema.isValid()) {
            return Mono.just(builder.down()
                .withDetail("reason", schema.installedVersion() == 0 ? "schema not installed" : "schema incomplete or outdated")
                .withDetail("missing", schema.missing())
                .build());
          }
          return store.workers().health(staleAfter).collectList().map(workers -> withWorkers(builder, workers, staleAfter));
        })
        .timeout(CHECK_TIMEOUT);
  }

  private Health withWorkers(Health.Builder builder, List<WorkerHealth> workers, Duration staleAfter) {
    Map<Boolean, List<WorkerHealth>> staleByOwner = workers.stream().filter(WorkerHealth::stale)
        .collect(java.util.stream.Collectors.partitioningBy(w -> store.workers().registeredHere(w.worker().id())));
    List<Map<String, Object>> stale = described(staleByOwner.get(true));
    List<Map<String, Object>> othersStale = described(staleByOwner.get(false));
    long healthy = workers.stream().filter(WorkerHealth::healthy).count();
    builder.withDetail("workersHealthy", healthy).withDetail("workersStale", stale.size())
        .withDetail("otherWorkersStale", othersStale.size());
    if (!othersStale.isEmpty()) {
      builder.withDetail("otherStaleWorkers", othersStale);
    }
    if (!stale.isEmpty()) {
      return builder.down().withDetail("reason", "workers of this application stale for more than " + staleAfter)
          .withDetail("staleWorkers", stale).build();
    }
    return builder.up().build();
  }

  private static List<Map<String, Object>> described(List<WorkerHealth> workers) {
    return workers.stream()
        .map(w -> Map.<String, Object>of("id", w.worker().id(), "name", w.worker().name(),
            "hostname", w.worker().hostname(), "pid", w.worker().pid(),
            "sinceHeartbeat", w.sinceHeartbeat().toString()))
        .toList();
  }
}
