package io.pgqrs.examples;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Transactional enqueue (the outbox pattern) with plain R2DBC: an order row and its confirmation
 * email commit in one transaction of the application's own connection, or neither does. PostgreSQL
 * only. With Spring, {@code TransactionalOperator} and {@code DatabaseClient} play the part of the
 * hand-written transaction here (see the README).
 *
 * <p>Usage: {@code TransactionalEnqueue [dsn]}, default {@code postgresql://postgres@127.0.0.1:5432/test}.
 * Run it with {@code ./mvnw -q -pl examples -am compile -Pdemo
 * -Dexec.mainClass=io.pgqrs.examples.TransactionalEnqueue}.
 */
public final class TransactionalEnqueue {

  private TransactionalEnqueue() {}

  /**
   * Inserts an order and enqueues its email in one transaction of a connection of {@code factory}.
   * Cold; an error rolls both back, and closing the connection on cancel ends the transaction too.
   *
   * @param factory the application's connections, to the store's database
   * @param emails the producer, bound to the connection for the enqueue
   * @param customer the order's customer
   * @return the message id, once the transaction committed
   */
  static Mono<Long> placeOrder(ConnectionFactory factory, Producer emails, String customer) {
    return Mono.usingWhen(factory.create(),
        (Connection c) -> Mono.from(c.beginTransaction())
            .then(Flux.from(c.createStatement("INSERT INTO demo_orders (customer) VALUES ($1)").bind(0, customer)
                .execute()).flatMap(r -> Mono.from(r.getRowsUpdated())).then())
            .then(emails.inTransaction(c).enqueue(Map.of("to", customer, "subject", "Your order")))
            .flatMap(id -> Mono.from(c.commitTransaction()).thenReturn(id))
            .onErrorResume(e -> Mono.from(c.rollbackTransaction()).then(Mono.error(e))),
        Connection::close);
  }

  /**
   * Runs the demo.
   *
   * @param args optional DSN
   */
  public static void main(String[] args) {
    String dsn = args.length > 0 && !args[0].isBlank() ? args[0] : "postgresql://postgres@127.0.0.1:5432/test";
    Store store = Pgqrs.connect(dsn).block(Duration.ofSeconds(30));
    // The application's own connections: the same database, any schema (the engine's SQL names its own).
    ConnectionFactory factory = ConnectionFactories.get("r2dbc:" + dsn.replaceFirst("\\?.*$", ""));
    try {
      store.admin().install().block();
      store.queues().create("emails")
          .onErrorResume(QueueAlreadyExistsException.class, e -> store.queues().get("emails"))
          .block();
      Mono.usingWhen(factory.create(), c -> Flux.from(c.createStatement(
              "CREATE TABLE IF NOT EXISTS demo_orders (id bigserial PRIMARY KEY, customer text NOT NULL)").execute())
          .flatMap(r -> Mono.from(r.getRowsUpdated())).then(), Connection::close).block();
      Producer emails = store.producer("emails").build();
      System.out.println("order and email committed together, message #"
          + placeOrder(factory, emails, "ada@example.com").block());
    } finally {
      store.close().block();
      // Stop Reactor's threads before main returns: under `mvn exec:java` a timer thread still
      // running once the plugin has closed its class loader fails the build after the demo's output.
      Schedulers.shutdownNow();
    }
  }
}
