package io.pgqrs.exampleapp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * A stand-in payment provider: a charge always succeeds and its id is derived from the run, so a
 * retried charge would produce the same id (a real provider would take it as an idempotency key).
 * It remembers the charges made in this process, for the tests to count.
 */
@Component
public class FakePayments {

  private final List<String> charges = new CopyOnWriteArrayList<>();

  /**
   * Charges an order. Cold: nothing is charged until subscribed; it does not fail.
   *
   * @param runId the checkout run, the charge's idempotency key
   * @param order the order
   * @return the payment id, {@code pay-<runId>}
   */
  public Mono<String> charge(long runId, Order order) {
    return Mono.fromSupplier(() -> {
      String paymentId = "pay-" + runId;
      charges.add(paymentId);
      return paymentId;
    });
  }

  /**
   * The charges made by this process since it started, oldest first.
   *
   * @return the payment ids
   */
  public List<String> charges() {
    return List.copyOf(charges);
  }
}
