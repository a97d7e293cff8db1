package io.pgqrs.examples;

import io.pgqrs.Message;
import io.pgqrs.NewMessage;
import io.pgqrs.Pgqrs;
import io.pgqrs.Producer;
import io.pgqrs.QueueAlreadyExistsException;
import io.pgqrs.Store;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The quick start as a program: install, create a queue, enqueue a batch, claim it under a lease,
 * archive it, print the queue's metrics. Safe to run again and again.
 *
 * <p>Usage: {@code QueueRoundTrip [dsn]}, default {@code postgresql://postgres@127.0.0.1:5432/test?schema=pgqrs_demo}.
 */
public final class QueueRoundTrip {

  private QueueRoundTrip() {}

  /**
   * Runs the round trip.
   *
   * @param args optional DSN
   */
  public static void main(String[] args) {
    String dsn = args.length > 0 ? args[0] : "postgresql://postgres@127.0.0.1:5432/test?schema=pgqrs_demo";
    Store store = Pgqrs.connect(dsn).block(Duration.ofSeconds(30));
    try {
      store.admin().install().block();
      store.queues().create("emails")
          .onErrorResume(QueueAlreadyExistsException.class, e -> store.queues().get("emails"))
          .block();

      Producer producer = store.producer("emails").build();
      List<Long> ids = producer.enqueueBatch(List.of(
          NewMessage.of(Map.of("to", "ada@example.com", "subject", "Welcome")),
          NewMessage.of(Map.of("to", "alan@example.com", "subject", "Invoice")).withPriority(10),
          NewMessage.of(Map.of("to", "grace@example.com", "subject", "Reminder")).withDelay(Duration.ofHours(1))))
          .block();
      System.out.println("enqueued " + ids);

      List<Message> claimed = store.messages().claim("emails", 10).block();
      for (Message m : claimed) {
        System.out.println("claimed #" + m.id() + " attempt " + m.attempts() + ": " + m.payload());
      }
      Integer archived = store.messages().archiveAll(claimed.stream().map(Message::lease).toList()).block();
      System.out.println("archived " + archived);
      System.out.println(store.queues().metrics("emails").block());
      System.out.println("state lives in " + store.config().toString());
    } finally {
      store.close().onErrorResume(e -> Mono.empty()).block();
    }
  }
}
