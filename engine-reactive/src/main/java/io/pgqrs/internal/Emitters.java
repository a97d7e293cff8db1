package io.pgqrs.internal;

import reactor.core.publisher.Sinks;

/**
 * Emission into best-effort multicast sinks shared by several threads, without spinning. Not API.
 *
 * <p>A {@code Sinks.Many} refuses a concurrent emission ({@code FAIL_NON_SERIALIZED}); retrying it
 * in a busy loop would burn a Netty or JDBC writer thread for as long as the loop allows. Here the
 * emissions into one sink are serialised by a monitor held only for the emission itself, so a
 * wake-up is never refused for concurrency, and any other refusal (no subscriber, a slow one, a
 * terminated sink) drops the signal: the sinks fed through this class carry hints that the table
 * stays the truth for.
 */
public final class Emitters {

  private Emitters() {}

  /**
   * Emits a value, dropping it if the sink refuses it for any reason but concurrency.
   *
   * @param sink the sink, used as the monitor that serialises its emissions
   * @param value the value
   * @param <T> the value type
   * @return whether a subscriber received it
   */
  public static <T> boolean emitNext(Sinks.Many<T> sink, T value) {
    synchronized (sink) {
      return sink.tryEmitNext(value).isSuccess();
    }
  }

  /**
   * Completes the sink; a sink already terminated is left as it is.
   *
   * @param sink the sink
   */
  public static void complete(Sinks.Many<?> sink) {
    synchronized (sink) {
      sink.tryEmitComplete();
    }
  }

  /**
   * Emits the one value of a sink, dropping it if the sink already has one or lost its subscribers.
   *
   * @param sink the sink, used as the monitor that serialises its emissions
   * @param value the value
   * @param <T> the value type
   * @return whether the value was accepted
   */
  public static <T> boolean emitValue(Sinks.One<T> sink, T value) {
    synchronized (sink) {
      return sink.tryEmitValue(value).isSuccess();
    }
  }
}
