package io.pgqrs.exampleapp;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.workflow.RunStatus;
import io.pgqrs.workflow.StepStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.test.StepVerifier;

/**
 * An order placed in one instance of the application, which stops while the run waits for its
 * approval, is approved and finished by a new instance on the same database, and its charge is
 * not made again.
 */
class RestartMidRunTest {

  @RegisterExtension
  static final PostgresSchema DATABASE = new PostgresSchema();

  @Test
  void aRunWaitingForApprovalFinishesAfterARestartWithoutChargingAgain() {
    long id;
    OrderView before;
    try (Shop first = Shop.start(DATABASE.dsn())) {
      id = first.placeOrder("teapot", 1, "ada@example.com");
      before = first.awaitStage(id, "awaiting_approval");
      assertThat(first.bean(FakePayments.class).charges()).containsExactly("pay-" + id);
    }

    try (Shop second = Shop.start(DATABASE.dsn())) {
      OrderView after = second.order(id);
      assertThat(after.stage()).isEqualTo("awaiting_approval");
      assertThat(after.steps()).isEqualTo(before.steps());

      second.approve(id).expectStatus().isAccepted();
      OrderView done = second.awaitStage(id, "completed");

      assertThat(done.status()).isEqualTo(RunStatus.SUCCESS);
      assertThat(second.bean(FakePayments.class).charges()).isEmpty();
      assertThat(second.bean(FakeShipping.class).shipments()).containsExactly("ship-" + id);
      assertThat(done.steps()).first().satisfies(charge -> {
        assertThat(charge.name()).isEqualTo("charge");
        assertThat(charge.status()).isEqualTo(StepStatus.SUCCESS);
        assertThat(charge.attempts()).isEqualTo(1);
        assertThat(charge.output()).isEqualTo("pay-" + id);
      });
      StepVerifier.create(second.bean(Outbox.class).watch().filter(email -> email.runId() == id).next())
          .assertNext(email -> assertThat(email.to()).isEqualTo("ada@example.com"))
          .expectComplete().verify(Shop.WAIT);
    }
  }
}
