package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.RateLimit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of the {@link RateLimit} record. */
class RateLimitTest {

  private static InvalidArgumentException argumentError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(InvalidArgumentException.class);
    return (InvalidArgumentException) thrown;
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(doubles = {0.0, -0.0, -1.0, -0.001, Double.NaN, Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY, -Double.MAX_VALUE})
  void nonPositiveOrNonFiniteRateIsRejectedNamingPermitsPerSecond(double rate) {
    InvalidArgumentException e = argumentError(() -> new RateLimit(rate, 1));

    assertThat(e.argument()).isEqualTo("permitsPerSecond");
    assertThat(e.getMessage()).contains("permitsPerSecond");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void burstBelowOneIsRejectedNamingBurst(int burst) {
    InvalidArgumentException e = argumentError(() -> new RateLimit(10, burst));

    assertThat(e.argument()).isEqualTo("burst");
    assertThat(e.getMessage()).contains("burst");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(doubles = {Double.MIN_VALUE, 0.001, 0.5, 1, 1000, Double.MAX_VALUE})
  void positiveFiniteRateIsAccepted(double rate) {
    assertThat(new RateLimit(rate, 1).permitsPerSecond()).isEqualTo(rate);
  }

  @Test
  void burstOfOneIsAccepted() {
    RateLimit limit = new RateLimit(2.5, 1);

    assertThat(limit.burst()).isEqualTo(1);
    assertThat(limit).isEqualTo(new RateLimit(2.5, 1));
  }
}
