package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dlq list | replay | purge}: a queue's dead-lettered messages. */
@Command(name = "dlq", description = "Lists, replays and purges dead-lettered messages.",
    subcommands = {DlqCommand.ListDead.class, DlqCommand.Replay.class, DlqCommand.Purge.class})
final class DlqCommand {

  static String plural(long n, String what) {
    return n + " " + what + (n == 1 ? "" : "s");
  }

  @Command(name = "list", description = {
      "Lists a queue's dead-lettered messages by id, with their attempts and last error.",
      "Page on with --after and the last id shown."})
  static final class ListDead extends StoreCommand {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue.")
    String queue;

    @Mixin
    Paging paging = new Paging();

    @Override
    int run(Store store, Output out) {
      List<Message> dead = awaitAll(store.deadLetters().list(queue, paging.after, paging.limit));
      out.print(dead, () -> {
        Table table = Table.of("ID", "ATTEMPTS", "ENQUEUED_AT", "DEAD_AT", "LAST_ERROR", "PAYLOAD");
        for (Message m : dead) {
          table.row(m.id(), m.attempts(), m.enqueuedAt(), m.deadAt(), Text.abbreviate(m.lastError()),
              Text.abbreviate(m.payload()));
        }
        return table.render();
      });
      return ExitCodes.OK;
    }
  }

  @Command(name = "replay", description = {
      "Moves dead-lettered messages back to live, claimable at once, with attempts reset.",
      "Replays one message by id, or every dead message of a queue with --all QUEUE."})
  static final class Replay extends StoreCommand {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    /** Exactly one of a message id and {@code --all QUEUE}. */
    static final class Target {
      @Parameters(index = "0", paramLabel = "ID", description = "The dead-lettered message to replay.")
      @Nullable Long id;

      @Option(names = "--all", paramLabel = "QUEUE", description = "Replay every dead message of this queue.")
      @Nullable String queue;
    }

    @Override
    int run(Store store, Output out) {
      Long id = target.id;
      String queue;
      long replayed;
      if (id != null) {
        Message message = await(store.messages().get(id), "get message");
        if (message.state() != MessageState.DEAD) {
          throw new CommandFailure(ExitCodes.REFUSED, "message " + id + " of queue '" + message.queue()
              + "' is not dead-lettered: it is " + message.state());
        }
        queue = message.queue();
        replayed = await(store.deadLetters().replay(queue, List.of(id)), "replay");
        if (replayed == 0) {
          // Replayed or purged by someone else between the read and the replay.
          throw new CommandFailure(ExitCodes.REFUSED, "message " + id + " of queue '" + queue
              + "' is no longer dead-lettered");
        }
      } else {
        queue = Objects.requireNonNull(target.queue);
        replayed = await(store.deadLetters().replayAll(queue), "replay");
      }
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("queue", queue);
      document.put("replayed", replayed);
      out.print(document, () -> "replayed " + plural(replayed, "message") + " of queue '" + queue + "'"
          + System.lineSeparator());
      return ExitCodes.OK;
    }
  }

  @Command(name = "purge", description = "Deletes every dead-lettered message of a queue.")
  static final class Purge extends StoreCommand {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue.")
    String queue;

    @Override
    int run(Store store, Output out) {
      // Read the queue first: a mistyped name is reported as not found (exit 3), not as 0 purged.
      await(store.queues().get(queue), "get queue");
      long purged = await(store.deadLetters().purge(queue), "purge dead letters");
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("queue", queue);
      document.put("purged", purged);
      out.print(document, () -> "purged " + plural(purged, "dead message") + " of queue '" + queue + "'"
          + System.lineSeparator());
      return ExitCodes.OK;
    }
  }
}
