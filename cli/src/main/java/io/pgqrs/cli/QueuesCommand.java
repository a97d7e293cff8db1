package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.admin.SystemMetrics;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.queue.QueueMetrics;
import io.pgqrs.queue.QueueOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code queues list | create | purge | delete | metrics}. */
@Command(name = "queues", description = "Lists, creates, purges and deletes queues, and shows their metrics.",
    subcommands = {
        QueuesCommand.ListQueues.class,
        QueuesCommand.Create.class,
        QueuesCommand.Purge.class,
        QueuesCommand.Delete.class,
        QueuesCommand.Metrics.class
    })
final class QueuesCommand {

  static Table queueTable(List<QueueInfo> queues) {
    Table table = Table.of("NAME", "ID", "MAX_ATTEMPTS", "MAX_LEASED", "MAX_CLAIMS_PER_S", "MAX_LEASED_PER_KEY",
        "CREATED_AT");
    for (QueueInfo q : queues) {
      table.row(q.name(), q.id(), q.maxAttempts(), q.maxLeased(), q.maxClaimsPerSecond(), q.maxLeasedPerKey(),
          q.createdAt());
    }
    return table;
  }

  @Command(name = "list", description = "Lists every queue, by name.")
  static final class ListQueues extends StoreCommand {
    @Override
    int run(Store store, Output out) {
      List<QueueInfo> queues = awaitAll(store.queues().list());
      out.print(queues, () -> queueTable(queues).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "create", description = "Creates a queue. Unset options take the engine's defaults (no limit).")
  static final class Create extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME",
        description = "1 to 63 letters, digits, '_', '-' or '.', not starting with a digit, '-' or '.'.")
    String name;

    @Option(names = "--max-attempts", paramLabel = "N",
        description = "Deliveries after which a message is dead-lettered (default: the engine's, 5).")
    @Nullable Integer maxAttempts;

    @Option(names = "--max-leased", paramLabel = "N",
        description = "The most messages of the queue leased at once, over every consumer (default: no limit).")
    @Nullable Integer maxLeased;

    @Option(names = "--max-claims-per-second", paramLabel = "N",
        description = "The most messages of the queue claimed per second, over every consumer (default: no limit).")
    @Nullable Integer maxClaimsPerSecond;

    @Option(names = "--max-leased-per-key", paramLabel = "N",
        description = "The most messages of one group key leased at once; claims go round-robin across keys"
            + " (default: no limit).")
    @Nullable Integer maxLeasedPerKey;

    @Override
    int run(Store store, Output out) {
      QueueOptions options = new QueueOptions(maxAttempts, maxLeased, maxClaimsPerSecond, maxLeasedPerKey);
      QueueInfo queue = await(store.queues().create(name, options), "create queue");
      out.print(queue, () -> queueTable(List.of(queue)).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "purge", description = {
      "Deletes every live message (pending, leased, delayed) of a queue.",
      "Archived and dead-lettered messages stay."})
  static final class Purge extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The queue.")
    String name;

    @Override
    int run(Store store, Output out) {
      long purged = await(store.queues().purge(name), "purge queue");
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("queue", name);
      document.put("purged", purged);
      out.print(document, () -> "purged " + purged + " live message" + (purged == 1 ? "" : "s") + " of queue '"
          + name + "'" + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "delete", description = {
      "Deletes a queue with its archive and dead letters.",
      "Refused (exit 4) while it has live messages or active workers, unless --force."})
  static final class Delete extends StoreCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The queue.")
    String name;

    @Option(names = "--force", description = "Delete even with live messages and workers (deleted with it).")
    boolean force;

    @Override
    int run(Store store, Output out) {
      (force ? store.queues().delete(name, true) : store.queues().delete(name)).block();
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("queue", name);
      document.put("deleted", true);
      out.print(document, () -> "deleted queue '" + name + "'" + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "metrics", description = {
      "Counts of one queue's messages by state, or of every queue with totals and worker counts.",
      "Reads the archive too: on a large store prefer it to a frequent poll."})
  static final class Metrics extends StoreCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The queue (default: every queue).")
    @Nullable String name;

    @Override
    int run(Store store, Output out) {
      String queue = name;
      if (queue != null) {
        QueueMetrics metrics = await(store.queues().metrics(queue), "queue metrics");
        out.print(metrics, () -> metricsTable(List.of(metrics), null).render());
      } else {
        SystemMetrics system = await(store.admin().systemMetrics(), "system metrics");
        out.print(system, () -> metricsTable(system.perQueue(), system).render() + System.lineSeparator()
            + "workers: " + system.workersReady() + " ready, " + system.workersSuspended() + " suspended, "
            + system.workersStopped() + " stopped" + System.lineSeparator());
      }
      return ExitCodes.OK;
    }

    private static Table metricsTable(List<QueueMetrics> queues, @Nullable SystemMetrics total) {
      Table table = Table.of("QUEUE", "PENDING", "LEASED", "DELAYED", "ARCHIVED", "DEAD", "OLDEST_PENDING");
      for (QueueMetrics m : queues) {
        table.row(m.queue(), m.pending(), m.leased(), m.delayed(), m.archived(), m.dead(), m.oldestPendingAge());
      }
      if (total != null) {
        table.row("(" + total.queues() + " queue" + (total.queues() == 1 ? ")" : "s)"), total.pending(),
            total.leased(), total.delayed(), total.archived(), total.dead(), total.oldestPendingAge());
      }
      return table;
    }
  }
}
