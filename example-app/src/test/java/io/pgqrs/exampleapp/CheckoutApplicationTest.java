package io.pgqrs.exampleapp;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.MediaType;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The checkout service on PostgreSQL, driven over HTTP: one application for the whole class, in a
 * schema of the class's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckoutApplicationTest {

  @RegisterExtension
  static final PostgresSchema DATABASE = new PostgresSchema();

  private Shop shop;

  @BeforeAll
  void start() {
    shop = Shop.start(DATABASE.dsn());
  }

  @AfterAll
  void stop() {
    if (shop != null) {
      shop.close();
    }
  }

  @Test
  void anOrderIsChargedApprovedShippedAndConfirmed() {
    long id = shop.placeOrder("teapot", 2, "ada@example.com");

    OrderView waiting = shop.awaitStage(id, "awaiting_approval");
    assertThat(waiting.status()).isEqualTo(RunStatus.RUNNING);
    assertThat(waiting.order()).isEqualTo(Map.of("item", "teapot", "quantity", 2, "customerEmail", "ada@example.com"));
    assertThat(waiting.steps()).extracting(OrderView.StepView::name, OrderView.StepView::status, OrderView.StepView::output)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("charge", StepStatus.SUCCESS, "pay-" + id),
            org.assertj.core.groups.Tuple.tuple("pgqrs.signal.approval", StepStatus.WAITING, null));
    assertThat(shop.bean(FakePayments.class).charges()).contains("pay-" + id);
    assertThat(shop.bean(FakeShipping.class).shipments()).doesNotContain("ship-" + id);

    shop.approve(id).expectStatus().isAccepted()
        .expectBody().jsonPath("$.id").isEqualTo(id).jsonPath("$.approval").isEqualTo("accepted");

    OrderView done = shop.awaitStage(id, "completed");
    assertThat(done.status()).isEqualTo(RunStatus.SUCCESS);
    assertThat(done.finishedAt()).isNotNull();
    assertThat(done.steps()).extracting(OrderView.StepView::name).containsExactly("charge", "pgqrs.signal.approval", "ship", "confirm");
    assertThat(done.steps()).allSatisfy(step -> assertThat(step.status()).isEqualTo(StepStatus.SUCCESS));
    // Each step ran once; the signal wait is not executed, it receives.
    assertThat(done.steps()).extracting(OrderView.StepView::attempts).containsExactly(1, 0, 1, 1);
    assertThat(done.steps().get(1).output()).isEqualTo(true);
    assertThat(done.steps().get(2).output()).isEqualTo("ship-" + id);
    @SuppressWarnings("unchecked")
    Map<String, Object> receipt = (Map<String, Object>) done.receipt();
    assertThat(receipt).containsEntry("paymentId", "pay-" + id).containsEntry("shipmentId", "ship-" + id)
        .containsKey("confirmationMessageId");

    StepVerifier.create(shop.bean(Outbox.class).watch().filter(email -> email.runId() == id).next())
        .assertNext(email -> {
          assertThat(email.to()).isEqualTo("ada@example.com");
          assertThat(email.subject()).isEqualTo("Your order " + id + " has shipped");
          assertThat(email.body()).isEqualTo("2 x teapot, payment pay-" + id + ", shipment ship-" + id);
        })
        .expectComplete().verify(Shop.WAIT);
    assertThat(shop.bean(Outbox.class).sent()).filteredOn(email -> email.runId() == id).hasSize(1);
  }

  @Test
  void approvingTwiceIsIdempotent() {
    long id = shop.placeOrder("kettle", 1, "grace@example.com");
    shop.awaitStage(id, "awaiting_approval");

    // Two approvals racing: both are answered 2xx, the run takes one approval and ships once.
    shop.approve(id).expectStatus().is2xxSuccessful();
    shop.approve(id).expectStatus().is2xxSuccessful();
    OrderView done = shop.awaitStage(id, "completed");
    assertThat(done.steps()).filteredOn(step -> step.name().equals("ship"))
        .singleElement().satisfies(step -> assertThat(step.attempts()).isEqualTo(1));
    assertThat(done.steps()).extracting(OrderView.StepView::name).containsExactly("charge", "pgqrs.signal.approval", "ship", "confirm");
    assertThat(shop.bean(FakeShipping.class).shipments()).containsOnlyOnce("ship-" + id);

    // Once the approval is recorded, another one changes nothing and says so.
    shop.approve(id).expectStatus().isOk()
        .expectBody().jsonPath("$.approval").isEqualTo("already_approved");
  }

  @Test
  void anApprovalSentWhileChargingIsKeptForTheWait() {
    long id = shop.placeOrder("cups", 6, "alan@example.com");
    shop.approve(id).expectStatus().is2xxSuccessful();
    assertThat(shop.awaitStage(id, "completed").status()).isEqualTo(RunStatus.SUCCESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{}",
      "{\"item\": \"\", \"quantity\": 1, \"customerEmail\": \"ada@example.com\"}",
      "{\"item\": \"teapot\", \"quantity\": 0, \"customerEmail\": \"ada@example.com\"}",
      "{\"item\": \"teapot\", \"quantity\": 1001, \"customerEmail\": \"ada@example.com\"}",
      "{\"item\": \"teapot\", \"quantity\": 1, \"customerEmail\": \"ada\"}",
      "{\"item\": \"teapot\", \"quantity\": 1, \"customerEmail\": \"ada@example\"}",
  })
  void anInvalidOrderIsRefusedNamingItsFields(String body) {
    shop.client.post().uri("/orders").contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange()
        .expectStatus().isBadRequest()
        .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
        .expectBody()
        .jsonPath("$.error").isEqualTo("invalid_order")
        .jsonPath("$.fields").isNotEmpty();
  }

  @Test
  void everyMissingFieldIsNamed() {
    shop.client.post().uri("/orders").contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange()
        .expectStatus().isBadRequest()
        .expectBody()
        .jsonPath("$.fields.item").isEqualTo("is required")
        .jsonPath("$.fields.quantity").isEqualTo("is required")
        .jsonPath("$.fields.customerEmail").isEqualTo("is required");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"item\": \"teapot\",",
      "{\"item\": \"teapot\", \"quantity\": \"two\", \"customerEmail\": \"ada@example.com\"}",
      "[1, 2]",
      "",
  })
  void aBodyThatIsNotAnOrderIsABadRequest(String body) {
    var request = shop.client.post().uri("/orders").contentType(MediaType.APPLICATION_JSON);
    (body.isEmpty() ? request : request.bodyValue(body)).exchange()
        .expectStatus().isBadRequest()
        .expectBody()
        .jsonPath("$.error").isEqualTo("bad_request")
        .jsonPath("$.message").isNotEmpty();
  }

  @Test
  void aBodyThatIsNotJsonIsUnsupported() {
    shop.client.post().uri("/orders").contentType(MediaType.TEXT_PLAIN).bodyValue("teapot").exchange()
        .expectStatus().isEqualTo(415)
        .expectBody().jsonPath("$.error").isEqualTo("unsupported_media_type");
  }

  @Test
  void anUnknownOrderIsNotFound() {
    shop.client.get().uri("/orders/{id}", 987_654_321L).exchange()
        .expectStatus().isNotFound()
        .expectBody().jsonPath("$.error").isEqualTo("not_found")
        .jsonPath("$.message").isEqualTo("order 987654321 does not exist");
    shop.approve(987_654_321L).expectStatus().isNotFound()
        .expectBody().jsonPath("$.error").isEqualTo("not_found");
    shop.client.get().uri("/orders/not-a-number").exchange()
        .expectStatus().isBadRequest()
        .expectBody().jsonPath("$.error").isEqualTo("bad_request");
  }

  @Test
  void aCancelledOrderCannotBeApproved() {
    long id = shop.placeOrder("saucer", 1, "ada@example.com");
    shop.awaitStage(id, "awaiting_approval");
    shop.bean(io.pgqrs.Store.class).runs().cancel(id, "customer left").block(Shop.WAIT);
    shop.awaitStage(id, "cancelled");
    shop.approve(id).expectStatus().isEqualTo(409)
        .expectBody().jsonPath("$.error").isEqualTo("conflict");
  }

  @Test
  void prometheusShowsThePgqrsMeters() {
    long id = shop.placeOrder("spoon", 3, "ada@example.com");
    shop.approve(id).expectStatus().is2xxSuccessful();
    shop.awaitStage(id, "completed");
    StepVerifier.create(shop.bean(Outbox.class).watch().filter(email -> email.runId() == id).next())
        .expectNextCount(1).expectComplete().verify(Shop.WAIT);

    // The handler's message is archived just after the handler returns: poll until it is counted.
    List<Pattern> expected = Stream.of(
            "^pgqrs_messages_enqueued_total\\{.*queue=\"emails\".*\\} [1-9]",
            "^pgqrs_messages_claimed_total\\{.*queue=\"emails\".*\\} [1-9]",
            "^pgqrs_messages_archived_total\\{.*queue=\"emails\".*\\} [1-9]",
            "^pgqrs_handler_duration_seconds_count\\{.*outcome=\"archived\".*queue=\"emails\".*\\} [1-9]",
            "^pgqrs_workflow_runs_started_total\\{.*workflow=\"checkout\".*\\} [1-9]",
            "^pgqrs_workflow_runs_finished_total\\{.*status=\"success\".*workflow=\"checkout\".*\\} [1-9]",
            "^pgqrs_workflow_step_duration_seconds_count\\{.*outcome=\"success\".*workflow=\"checkout\".*\\} [1-9]")
        .map(regex -> Pattern.compile(regex, Pattern.MULTILINE)).toList();
    AtomicReference<String> last = new AtomicReference<>("");
    String metrics = Mono.fromCallable(() -> shop.client.get().uri("/actuator/prometheus").exchange()
            .expectStatus().isOk()
            .expectBody(String.class).returnResult().getResponseBody())
        .subscribeOn(Schedulers.boundedElastic())
        .doOnNext(last::set)
        .filter(text -> expected.stream().allMatch(p -> p.matcher(text).find()))
        .repeatWhenEmpty(attempts -> attempts.delayElements(Duration.ofMillis(50)))
        .timeout(Shop.WAIT, Mono.fromCallable(last::get))
        .block();
    assertThat(metrics).isNotNull();
    for (Pattern pattern : expected) {
      assertThat(metrics).containsPattern(pattern);
    }
  }

  @Test
  void healthIncludesPgqrs() {
    shop.client.get().uri("/actuator/health").exchange()
        .expectStatus().isOk()
        .expectBody()
        .jsonPath("$.status").isEqualTo("UP")
        .jsonPath("$.components.pgqrs.status").isEqualTo("UP")
        .jsonPath("$.components.pgqrs.details.backend").isEqualTo("postgres");
  }
}
