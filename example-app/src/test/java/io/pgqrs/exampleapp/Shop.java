package io.pgqrs.exampleapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One running instance of the application for a test, on a random port, and a
 * {@link WebTestClient} talking to it over HTTP.
 */
final class Shop implements AutoCloseable {

  /** How long a test waits for a state it polls for. */
  static final Duration WAIT = Duration.ofSeconds(30);

  private static final Duration POLL = Duration.ofMillis(50);

  final ConfigurableApplicationContext context;
  final WebTestClient client;

  private Shop(ConfigurableApplicationContext context) {
    this.context = context;
    String port = context.getEnvironment().getRequiredProperty("local.server.port");
    this.client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build();
  }

  /**
   * Starts the application on a store.
   *
   * @param dsn the store
   * @return the running instance
   */
  static Shop start(String dsn) {
    // Arguments, not default properties: they must win over application.properties.
    return new Shop(new SpringApplicationBuilder(ExampleApplication.class)
        .run("--server.port=0", "--pgqrs.dsn=" + dsn));
  }

  <T> T bean(Class<T> type) {
    return context.getBean(type);
  }

  /** Places an order and returns its id, checking the 202 answer and its Location header. */
  long placeOrder(String item, int quantity, String email) {
    OrderController.OrderAccepted accepted = client.post().uri("/orders")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("item", item, "quantity", quantity, "customerEmail", email))
        .exchange()
        .expectStatus().isAccepted()
        .expectHeader().valueMatches("Location", "/orders/\\d+")
        .expectBody(OrderController.OrderAccepted.class)
        .returnResult().getResponseBody();
    assertThat(accepted).isNotNull();
    assertThat(accepted.location()).isEqualTo("/orders/" + accepted.id());
    return accepted.id();
  }

  OrderView order(long id) {
    OrderView view = client.get().uri("/orders/{id}", id).exchange()
        .expectStatus().isOk()
        .expectBody(OrderView.class).returnResult().getResponseBody();
    assertThat(view).isNotNull();
    return view;
  }

  /** Polls {@code GET /orders/{id}} until the view matches, for at most {@link #WAIT}. */
  OrderView awaitOrder(long id, Predicate<OrderView> condition) {
    AtomicReference<OrderView> last = new AtomicReference<>();
    OrderView view = Mono.fromCallable(() -> order(id))
        .subscribeOn(Schedulers.boundedElastic())
        .doOnNext(last::set)
        .filter(condition)
        .repeatWhenEmpty(attempts -> attempts.delayElements(POLL))
        .timeout(WAIT, Mono.error(() -> new AssertionError("order " + id + " did not reach the expected state within "
            + WAIT + "; last seen: " + last.get())))
        .block();
    assertThat(view).isNotNull();
    return view;
  }

  OrderView awaitStage(long id, String stage) {
    return awaitOrder(id, view -> stage.equals(view.stage()));
  }

  WebTestClient.ResponseSpec approve(long id) {
    return client.post().uri("/orders/{id}/approve", id).exchange();
  }

  @Override
  public void close() {
    context.close();
  }
}
