package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.worker.WorkerHealth;
import io.pgqrs.worker.WorkerInfo;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code workers list | health | suspend | resume | delete}: the registered workers. */
@Command(name = "workers", description = "Lists workers and their health, suspends, resumes and deletes them.",
    subcommands = {
        WorkersCommand.ListWorkers.class,
        WorkersCommand.Health.class,
        WorkersCommand.Suspend.class,
        WorkersCommand.Resume.class,
        WorkersCommand.Delete.class
    })
final class WorkersCommand {

  static Table workerTable(List<WorkerInfo> workers) {
    Table table = Table.of("ID", "NAME", "QUEUE", "STATUS", "HOST", "PID", "STARTED_AT", "HEARTBEAT_AT", "STOPPED_AT");
    for (WorkerInfo w : workers) {
      table.row(w.id(), w.name(), w.queue(), w.status(), w.hostname(), w.pid(), w.startedAt(), w.heartbeatAt(),
          w.stoppedAt());
    }
    return table;
  }

  static int printChanged(Output out, WorkerInfo worker) {
    out.print(worker, () -> "worker " + worker.id() + " (" + worker.name() + ") is " + worker.status()
        + System.lineSeparator());
    return ExitCodes.OK;
  }

  @Command(name = "list", description = "Lists registered workers, of one queue or all, by id.")
  static final class ListWorkers extends StoreCommand {
    @Option(names = "--queue", paramLabel = "QUEUE", description = "Only workers of this queue.")
    @Nullable String queue;

    @Override
    int run(Store store, Output out) {
      List<WorkerInfo> workers = awaitAll(store.workers().list(queue));
      out.print(workers, () -> workerTable(workers).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "health", description = {
      "Judges every worker's liveness by the store's clock.",
      "A worker that is not stopped and whose last heartbeat is older than --stale-after is stale;"
          + " healthy is neither stopped nor stale."})
  static final class Health extends StoreCommand {
    @Option(names = "--stale-after", paramLabel = "DURATION", converter = Converters.DurationConverter.class,
        description = "Heartbeat age that makes a worker stale, like 30s or 5m (default: the engine's, 30s).")
    @Nullable Duration staleAfter;

    @Override
    int run(Store store, Output out) {
      Duration threshold = staleAfter != null ? staleAfter : store.config().workerStaleAfter();
      List<WorkerHealth> health = awaitAll(store.workers().health(threshold));
      List<Map<String, Object>> document = health.stream().map(Health::document).toList();
      out.print(document, () -> {
        Table table = Table.of("ID", "NAME", "QUEUE", "STATUS", "SINCE_HEARTBEAT", "LEASES", "STALE", "HEALTHY");
        for (WorkerHealth h : health) {
          WorkerInfo w = h.worker();
          table.row(w.id(), w.name(), w.queue(), w.status(), h.sinceHeartbeat(), h.leases(), h.stale(), h.healthy());
        }
        return table.render();
      });
      return ExitCodes.OK;
    }

    private static Map<String, Object> document(WorkerHealth h) {
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("worker", h.worker());
      document.put("sinceHeartbeat", h.sinceHeartbeat());
      document.put("stale", h.stale());
      document.put("healthy", h.healthy());
      document.put("leases", h.leases());
      return document;
    }
  }

  @Command(name = "suspend", description = {
      "Suspends a ready worker: its streams stop fetching until resumed. Refused (exit 4) for a stopped one."})
  static final class Suspend extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The worker id.")
    long id;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.workers().suspend(id), "suspend worker"));
    }
  }

  @Command(name = "resume", description = "Resumes a suspended worker. Refused (exit 4) for a stopped one.")
  static final class Resume extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The worker id.")
    long id;

    @Override
    int run(Store store, Output out) {
      return printChanged(out, await(store.workers().resume(id), "resume worker"));
    }
  }

  @Command(name = "delete", description = "Deletes a worker's record. Refused (exit 4) while it holds leases.")
  static final class Delete extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The worker id.")
    long id;

    @Override
    int run(Store store, Output out) {
      store.workers().delete(id).block();
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("worker", id);
      document.put("deleted", true);
      out.print(document, () -> "deleted worker " + id + System.lineSeparator());
      return ExitCodes.OK;
    }
  }
}
