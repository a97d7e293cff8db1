package io.pgqrs.exampleapp;

import io.pgqrs.Store;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Producer;
import io.pgqrs.workflow.RunContext;
import io.pgqrs.workflow.WorkflowMethod;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The checkout workflow, registered and its worker started by the starter: charge the order, wait
 * for an {@value #APPROVAL_SIGNAL} signal, ship, then enqueue a confirmation email. Each step's
 * result is recorded in the store, so after a restart the run continues where it stopped and a
 * recorded charge is never made again.
 *
 * <p>If no approval arrives within {@code app.checkout.approval-timeout} (1 day) the run fails
 * with a {@code SignalTimeoutException} and ends in {@code ERROR}; nothing is shipped.
 */
@Component
public class CheckoutWorkflow {

  /** The workflow's name, which is also its queue's. */
  public static final String NAME = "checkout";

  /** The signal {@code POST /orders/{id}/approve} sends. */
  public static final String APPROVAL_SIGNAL = "approval";

  /** The step's position (program order) of the approval wait: after the charge, before shipping. */
  public static final String APPROVAL_POSITION = "2";

  private final FakePayments payments;
  private final FakeShipping shipping;
  private final Producer emails;
  private final Duration approvalTimeout;

  /**
   * Creates the workflow bean.
   *
   * @param store the application's store
   * @param payments the payment provider
   * @param shipping the carrier
   * @param approvalTimeout how long a run waits for its approval
   */
  public CheckoutWorkflow(Store store, FakePayments payments, FakeShipping shipping,
      @Value("${app.checkout.approval-timeout:1d}") Duration approvalTimeout) {
    this.payments = payments;
    this.shipping = shipping;
    this.emails = store.producer(ConfirmationEmails.QUEUE).build();
    this.approvalTimeout = approvalTimeout;
  }

  /**
   * The workflow's body, run (and replayed after a restart) by the starter's worker.
   *
   * @param ctx the run's context
   * @param order the order
   * @return the receipt
   */
  @WorkflowMethod(NAME)
  public Mono<Receipt> run(RunContext ctx, Order order) {
    long runId = ctx.runId();
    return ctx.step("charge", String.class, () -> payments.charge(runId, order))
        .flatMap(paymentId -> ctx.awaitSignal(APPROVAL_SIGNAL, Boolean.class, approvalTimeout)
            .then(ctx.step("ship", String.class, () -> shipping.ship(runId, order)))
            .flatMap(shipmentId -> ctx.step("confirm", Long.class,
                    () -> emails.enqueue(confirmation(runId, order, paymentId, shipmentId)))
                .map(messageId -> new Receipt(paymentId, shipmentId, messageId))));
  }

  private static NewMessage confirmation(long runId, Order order, String paymentId, String shipmentId) {
    ConfirmationEmail email = new ConfirmationEmail(runId, order.customerEmail(),
        "Your order " + runId + " has shipped",
        order.quantity() + " x " + order.item() + ", payment " + paymentId + ", shipment " + shipmentId);
    // If the process dies after the enqueue but before the step is recorded, the step runs again:
    // the dedup key makes that second enqueue return the first message instead of a duplicate.
    return NewMessage.of(email).withDedupKey("confirmation-" + runId);
  }
}
