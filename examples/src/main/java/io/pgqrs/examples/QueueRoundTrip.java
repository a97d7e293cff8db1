package io.pgqrs.examples;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.QueueAlreadyExistsException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The quick start as a program: install, create a queue, enqueue a batch, claim it under a lease,
 * archive it, print the queue's metrics. Safe to run again and again.
 *
 * <p>Usage: {@code QueueRoundTrip [dsn]}. The default, {@code sqlite:pgqrs-demo.db}, needs no server;
 * a {@code postgresql://} DSN runs the same program on PostgreSQL. Run it with
 * {@code ./mvnw -q -pl examples -am compile -Pdemo}, adding {@code -Dexec.args=DSN} for another store.
 */
public final class QueueRoundTrip {

  private QueueRoundTrip() {}

  private static String describe(Store store) {
    String dsn = store.config().dsn();
    if (dsn.startsWith("sqlite:") && !dsn.contains(":memory:")) {
      String file = dsn.substring("sqlite:".length()).replaceFirst("^//", "").replaceFirst("\\?.*$", "");
      return java.nio.file.Path.of(file).toAbsolutePath() + " (SQLite; run again to see the archive grow)";
    }
    return store.config() + " (" + store.capabilities().backend() + ")";
  }

  /**
   * Runs the round trip.
   *
   * @param args optional DSN
   */
  public static void main(String[] args) {
    String dsn = args.length > 0 && !args[0].isBlank() ? args[0] : "sqlite:pgqrs-demo.db";
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
      System.out.println("state lives in " + describe(store));
    } finally {
      store.close().onErrorResume(e -> Mono.empty()).block();
      // Stop Reactor's threads before main returns: under `mvn exec:java` a timer thread still
      // running once the plugin has closed its class loader fails the build after the demo's output.
      Schedulers.shutdownNow();
    }
  }
}
