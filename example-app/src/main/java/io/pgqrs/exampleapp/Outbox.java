package io.pgqrs.exampleapp;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Where "sent" emails end up: an in-memory record standing in for a mail server, which the tests
 * read. Thread-safe.
 */
@Component
public class Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

  private final List<ConfirmationEmail> sent = new CopyOnWriteArrayList<>();
  private final Sinks.Many<ConfirmationEmail> stream = Sinks.many().replay().all();

  /**
   * Records an email as sent. Not I/O.
   *
   * @param email the email
   */
  public void send(ConfirmationEmail email) {
    sent.add(email);
    LOG.info("sent to {}: {} ({})", email.to(), email.subject(), email.body());
    // Handlers run concurrently: busy-looping on a concurrent emission keeps every email.
    stream.emitNext(email, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
  }

  /**
   * The emails sent by this process so far, oldest first.
   *
   * @return a snapshot
   */
  public List<ConfirmationEmail> sent() {
    return List.copyOf(sent);
  }

  /**
   * Every email sent by this process, those already sent first, then each one as it is sent. Hot
   * and replaying; never completes; cancelling only stops watching.
   *
   * @return the emails
   */
  public Flux<ConfirmationEmail> watch() {
    return stream.asFlux();
  }
}
