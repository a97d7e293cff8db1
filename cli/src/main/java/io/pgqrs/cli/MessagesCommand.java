package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.MessageState;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code messages get | list}: reading messages, never changing them. */
@Command(name = "messages", description = "Shows one message, or lists a queue's messages in one state.",
    subcommands = {MessagesCommand.Get.class, MessagesCommand.ListMessages.class})
final class MessagesCommand {

  /** A message's fields, the payload whole. */
  static Fields fields(Message m) {
    return new Fields()
        .add("id", m.id())
        .add("queue", m.queue())
        .add("state", m.state())
        .add("priority", m.priority())
        .add("attempts", m.attempts())
        .add("enqueued_at", m.enqueuedAt())
        .add("visible_at", m.visibleAt())
        .add("lease_owner", m.leaseOwner())
        .add("dedup_key", m.dedupKey())
        .add("group_key", m.groupKey())
        .add("headers", io.pgqrs.internal.Json.headersJson(m.headers()))
        .add("last_error", m.lastError())
        .add("archived_at", m.archivedAt())
        .add("dead_at", m.deadAt())
        .add("payload", m.payload());
  }

  /** Messages as rows, payloads and errors cut to fit. */
  static Table table(List<Message> messages) {
    Table table = Table.of("ID", "STATE", "PRIORITY", "ATTEMPTS", "ENQUEUED_AT", "VISIBLE_AT", "LAST_ERROR", "PAYLOAD");
    for (Message m : messages) {
      table.row(m.id(), m.state(), m.priority(), m.attempts(), m.enqueuedAt(), m.visibleAt(),
          Text.abbreviate(m.lastError()), Text.abbreviate(m.payload()));
    }
    return table;
  }

  @Command(name = "get", description = "Shows one message in any state, with its whole payload.")
  static final class Get extends StoreCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The message id.")
    long id;

    @Override
    int run(Store store, Output out) {
      Message message = await(store.messages().get(id), "get message");
      out.print(message, () -> fields(message).render());
      return ExitCodes.OK;
    }
  }

  @Command(name = "list", description = {
      "Lists a queue's messages in one state by id: live (pending, leased and delayed), archived or dead.",
      "Page on with --after and the last id shown."})
  static final class ListMessages extends StoreCommand {
    @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue.")
    String queue;

    @Option(names = "--state", paramLabel = "STATE", defaultValue = "live",
        description = "live, archived or dead (default: ${DEFAULT-VALUE}).")
    MessageState state;

    @Mixin
    Paging paging = new Paging();

    @Override
    int run(Store store, Output out) {
      List<Message> messages = awaitAll(store.messages().list(queue, state, paging.after, paging.limit));
      out.print(messages, () -> table(messages).render());
      return ExitCodes.OK;
    }
  }
}
