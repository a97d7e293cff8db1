package io.pgqrs.workflow;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an interface method as a workflow step, for proxies made by
 * {@link RunContext#steps(Class, Object)}: calling it through the proxy goes through
 * {@link RunContext#step(String, com.fasterxml.jackson.core.type.TypeReference, java.util.function.Supplier)},
 * typed by the method's {@code Mono<T>} return type.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Step {

  /**
   * The step's name; empty for the method's name.
   *
   * @return the name
   */
  String value() default "";

  /**
   * Executions before the step fails for good; 0 for the workflow's default.
   *
   * @return the attempts
   */
  int maxAttempts() default 0;
}
