package io.pgqrs.workflow;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the body of a workflow on a class or interface, for {@link Workflows#fromAnnotated}: a
 * method {@code Mono<O> name(RunContext ctx, I input)}. Its steps can be {@link Step} methods of
 * another interface, reached through {@link RunContext#steps(Class, Object)}.
 *
 * <pre>{@code
 * class Checkout {
 *   @WorkflowMethod("checkout")
 *   Mono<Receipt> run(RunContext ctx, Order order) {
 *     Payments payments = ctx.steps(Payments.class, realPayments);   // @Step methods memoized
 *     return payments.charge(order).map(Receipt::new);
 *   }
 * }
 * WorkflowDefinition<Order, Receipt> definition = Workflows.fromAnnotated(new Checkout());
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface WorkflowMethod {

  /**
   * The workflow's name (also its queue's); empty for the method's name.
   *
   * @return the name
   */
  String value() default "";
}
