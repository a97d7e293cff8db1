package io.pgqrs.testing;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * Waits on state, not on time: re-reads some state (a cold {@link Mono}, usually a store query)
 * until it satisfies a condition, within a bound. The read is subscribed again 20 ms after each
 * unsatisfying answer, so nothing sleeps and no thread blocks but the caller's.
 */
public final class StateWait {

  /** How long after an unsatisfying read the state is read again. */
  private static final Duration AGAIN_AFTER = Duration.ofMillis(20);

  private StateWait() {}

  /**
   * Re-reads the state until {@code done} accepts it and returns that state. An empty read counts
   * as unsatisfying; an error ends the wait with that error.
   *
   * @param what the awaited condition, for the failure message
   * @param within the bound
   * @param read the state, read afresh on every subscription
   * @param done the condition
   * @param <T> the state's type
   * @return the first state that satisfies the condition
   * @throws AssertionError naming {@code what} if no read satisfied it within the bound
   */
  public static <T> T until(String what, Duration within, Supplier<? extends Mono<T>> read,
      Predicate<? super T> done) {
    try {
      return Mono.defer(read)
          .filter(done)
          .repeatWhenEmpty(reads -> reads.delayElements(AGAIN_AFTER))
          .timeout(within, Mono.error(() -> new AssertionError("timed out after " + within + " waiting until " + what)))
          .block();
    } catch (RuntimeException e) {
      Throwable cause = Exceptions.unwrap(e);
      if (cause instanceof AssertionError assertion) {
        throw assertion;
      }
      throw e;
    }
  }

  /**
   * Re-reads a condition until it holds.
   *
   * @param what the awaited condition, for the failure message
   * @param within the bound
   * @param check the condition, evaluated afresh on every subscription
   * @throws AssertionError naming {@code what} if it did not hold within the bound
   */
  public static void until(String what, Duration within, Supplier<? extends Mono<Boolean>> check) {
    until(what, within, check, Boolean::booleanValue);
  }
}
