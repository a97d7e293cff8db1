package io.pgqrs;

/**
 * Defines workflows. A definition is a value, independent of any store; register it with
 * {@link Runs#register(WorkflowDefinition)} to trigger runs and start workers.
 *
 * <pre>{@code
 * WorkflowDefinition<Order, Receipt> checkout = Workflows.define("checkout", Order.class, Receipt.class,
 *     (ctx, order) -> ctx.step("charge", Charge.class, () -> payments.charge(order))
 *         .flatMap(charge -> ctx.step("ship", Shipment.class, () -> shipping.ship(order)))
 *         .map(shipment -> new Receipt(order.id(), shipment.tracking())));
 * }</pre>
 */
public final class Workflows {

  private Workflows() {}

  /**
   * Defines a workflow with default options (see {@link WorkflowDefinition}).
   *
   * @param name the workflow's name, also the name of its queue (1 to 63 letters, digits, '_', '.'
   *     or '-', starting with a letter or '_')
   * @param inputType the input class; inputs are stored as JSON with the store's object mapper
   * @param outputType the output class
   * @param body the workflow's body
   * @param <I> the input type
   * @param <O> the output type
   * @return the definition
   * @throws InvalidArgumentException if the name is invalid
   */
  public static <I, O> WorkflowDefinition<I, O> define(
      String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body) {
    return WorkflowDefinition.create(name, inputType, outputType, body);
  }
}
