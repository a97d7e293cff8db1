package io.pgqrs.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean method as the handler of a queue's messages, in the style of Spring Kafka's
 * {@code @KafkaListener}. At application start one consumer per annotated method is subscribed
 * with {@code Consumer.handleDeliveries(...)}; at shutdown it stops claiming, lets running handlers finish
 * within the shutdown timeout and releases the rest, before the {@code Store} closes.
 *
 * <p>The method takes one parameter: an {@code io.pgqrs.queue.Message}, the payload as a Jackson
 * {@code JsonNode}, any type the store's Jackson mapper converts the payload to (generics
 * included), or an {@code io.pgqrs.queue.Delivery}, which lets the method extend the lease or
 * settle the message itself (ack, delete, release, dead-letter: what it did stands, the outcome is
 * {@code SETTLED_BY_HANDLER}, in the style of Spring Kafka's manual {@code Acknowledgment}). It returns a {@code Mono}/{@code Flux}/{@code Publisher} (its completion acknowledges
 * the message, an error retries it under the retry policy) or {@code void}. A {@code void} method
 * is treated as blocking work and runs on {@code Schedulers.boundedElastic()}, never on a Reactor
 * thread; returning normally acknowledges, throwing retries. A payload the mapper cannot convert
 * dead-letters the message at once (retrying cannot help). Any other signature fails start-up with
 * an error naming the method.
 *
 * <p>Every attribute is a string that may hold {@code ${...}} placeholders; an empty attribute
 * takes its default from {@code pgqrs.consumer.*} (concurrency, timeouts) or from
 * {@code RetryPolicy.defaults()} (retries: exponential from 1s, capped at 5m, 20% jitter).
 *
 * <pre>{@code
 * @Component
 * class Emails {
 *   @PgqrsHandler(queue = "${app.queues.emails:emails}", concurrency = "4", retryMaxDelay = "1m")
 *   Mono<Void> send(Email email) {
 *     return mailer.send(email);
 *   }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
public @interface PgqrsHandler {

  /**
   * The queue consumed. Required. If it does not exist at start-up, it is created when
   * {@code pgqrs.create-queues=true}, otherwise start-up fails naming this method and the queue.
   *
   * @return the queue name, or a placeholder for it
   */
  String queue();

  /**
   * How many handlers run at once. Empty: {@code pgqrs.consumer.concurrency} (8).
   *
   * @return 1 to 10,000, or empty
   */
  String concurrency() default "";

  /**
   * How long one handler may run before it is cancelled and its message released as failed.
   * Empty: {@code pgqrs.consumer.handler-timeout} (5m).
   *
   * @return a duration such as {@code 30s}, {@code PT2M}, or empty
   */
  String handlerTimeout() default "";

  /**
   * How long shutdown waits for running handlers. Empty: {@code pgqrs.consumer.shutdown-timeout}
   * (20s).
   *
   * @return a duration, or empty
   */
  String shutdownTimeout() default "";

  /**
   * The shape of retry delays: {@code exponential} (doubling from {@link #retryDelay()} up to
   * {@link #retryMaxDelay()}) or {@code fixed} ({@link #retryDelay()} every time). Empty:
   * exponential.
   *
   * @return {@code exponential}, {@code fixed}, or empty
   */
  String retryBackoff() default "";

  /**
   * The first (exponential) or every (fixed) retry delay. Empty: 1s.
   *
   * @return a duration, or empty
   */
  String retryDelay() default "";

  /**
   * The cap of exponential retry delays. Empty: 5m (or the retry delay, if that is longer).
   *
   * @return a duration, or empty
   */
  String retryMaxDelay() default "";

  /**
   * The random spread of retry delays, from 0 to 1. Empty: 0.2 for exponential, 0 for fixed.
   *
   * @return a fraction, or empty
   */
  String retryJitter() default "";

  /**
   * Errors that are never retried: a handler failing with one of these (or a subclass)
   * dead-letters its message at once.
   *
   * @return the error types
   */
  Class<? extends Throwable>[] noRetryFor() default {};

  /**
   * Whether messages whose handler succeeded are deleted instead of archived. Empty: false.
   *
   * @return {@code true}, {@code false}, or empty
   */
  String deleteOnSuccess() default "";

  /**
   * The worker name prefix. Empty: the engine's default (queue name and host).
   *
   * @return 1 to 150 characters, or empty
   */
  String workerName() default "";
}
