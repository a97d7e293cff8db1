package io.pgqrs.sqlite;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Holds back one pipeline request of a test Hrana server: the first whose body contains a marker
 * is neither run nor answered until the test releases it. A test that waits for
 * {@link #arrived()} knows that the statement is in flight on the server, which no sleep can
 * promise.
 */
final class AnswerGate {

  /** A gate nobody releases lets its request go after this, so a failed test cannot hang the server. */
  private static final Duration RELEASE_TIMEOUT = Duration.ofSeconds(30);

  private final String marker;
  private final AtomicBoolean taken = new AtomicBoolean();
  private final Sinks.Empty<Void> arrived = Sinks.empty();
  private final CompletableFuture<Void> released = new CompletableFuture<>();

  AnswerGate(String marker) {
    this.marker = marker;
  }

  /**
   * Completes once the held request has reached the server.
   *
   * @return a hot signal
   */
  Mono<Void> arrived() {
    return arrived.asMono();
  }

  /** Lets the held request run and be answered. */
  void release() {
    released.complete(null);
  }

  /**
   * Called by the server's handler thread, never a Reactor thread: blocks it until the test
   * releases the request, if the request is the one this gate holds.
   *
   * @param body the request body
   */
  void pass(String body) {
    if (!body.contains(marker) || !taken.compareAndSet(false, true)) {
      return;
    }
    arrived.tryEmitEmpty();
    try {
      released.get(RELEASE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // let the request go
    }
  }
}
