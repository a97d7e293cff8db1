package io.pgqrs.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Options of one workflow of the application, beside its {@code @WorkflowMethod}: how its worker
 * runs in this application and how long a run may take. Put it on the {@code @WorkflowMethod}
 * method; without it the workflow takes the {@code pgqrs.workflow.*} defaults and no timeout.
 *
 * <p>Every attribute is a string that may hold {@code ${...}} placeholders; an empty attribute
 * takes its default. A value that cannot be read, or that the engine refuses (a concurrency of 0,
 * a negative timeout), fails start-up with an error naming the bean, the workflow and the
 * attribute.
 *
 * <pre>{@code
 * @Component
 * class Checkout {
 *   @WorkflowMethod("checkout")
 *   @PgqrsWorkflow(concurrency = "${app.checkout.concurrency:4}", timeout = "2d")
 *   Mono<Receipt> run(RunContext ctx, Order order) { ... }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
public @interface PgqrsWorkflow {

  /**
   * How many runs of this workflow execute at once in this application. Empty:
   * {@code pgqrs.workflow.concurrency} (8).
   *
   * @return 1 to 10,000, or empty
   */
  String concurrency() default "";

  /**
   * How long shutdown waits for this workflow's runs to reach a step boundary. Empty:
   * {@code pgqrs.workflow.shutdown-timeout} (20s).
   *
   * @return a duration such as {@code 30s} or {@code PT30S}, or empty
   */
  String shutdownTimeout() default "";

  /**
   * How long a run may take from its trigger before it fails with a timeout (the definition's
   * {@code withTimeout}). Empty: no timeout.
   *
   * @return a duration such as {@code 1h} or {@code P2D}, or empty
   */
  String timeout() default "";
}
