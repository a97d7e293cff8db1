package io.pgqrs.exampleapp;

import io.pgqrs.spring.PgqrsHandler;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The consumer of the {@code emails} queue: "sends" each confirmation by recording it in the
 * {@link Outbox}. The message is archived when the returned {@code Mono} completes; an error
 * would retry it with backoff and dead-letter it after the queue's last attempt.
 */
@Component
public class ConfirmationEmails {

  /** The queue the checkout workflow writes confirmations to. */
  public static final String QUEUE = "emails";

  private final Outbox outbox;

  /**
   * Creates the handler.
   *
   * @param outbox where sent emails are recorded
   */
  public ConfirmationEmails(Outbox outbox) {
    this.outbox = outbox;
  }

  /**
   * Sends one confirmation. Cold; does not fail.
   *
   * @param email the message's payload
   * @return completes once sent
   */
  @PgqrsHandler(queue = QUEUE, concurrency = "4", retryDelay = "1s", retryMaxDelay = "1m")
  public Mono<Void> send(ConfirmationEmail email) {
    return Mono.fromRunnable(() -> outbox.send(email));
  }
}
