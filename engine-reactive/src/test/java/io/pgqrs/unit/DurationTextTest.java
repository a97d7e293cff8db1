package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.ConfigurationException;
import io.pgqrs.internal.DurationText;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of {@link DurationText}. */
class DurationTextTest {

  private static ConfigurationException configError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ConfigurationException.class);
    return (ConfigurationException) thrown;
  }

  @ParameterizedTest(name = "\"{0}\" = {1}")
  @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
      "250ms|PT0.25S",
      "0ms|PT0S",
      "30s|PT30S",
      "0s|PT0S",
      "5m|PT5M",
      "2h|PT2H",
      "7d|PT168H",
      "30 s|PT30S",
      " 45s |PT45S",
      "\t10m\t|PT10M",
      "007s|PT7S",
      "PT5S|PT5S",
      "PT1M30S|PT1M30S",
      "P2D|PT48H",
      "P1DT2H|PT26H",
      "pt5s|PT5S",
      "PT0.5S|PT0.5S"
  })
  void simpleAndIsoDurationsAreParsed(String text, String expectedIso) {
    assertThat(DurationText.parse("field", text)).isEqualTo(Duration.parse(expectedIso));
  }

  @Test
  void twelveDigitValuesAreParsedWithoutOverflow() {
    assertThat(DurationText.parse("f", "999999999999d")).isEqualTo(Duration.ofDays(999_999_999_999L));
    assertThat(DurationText.parse("f", "999999999999ms")).isEqualTo(Duration.ofMillis(999_999_999_999L));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {
      "", " ", "soon", "5", "s", "ms", "1.5s", "-5s", "+5s", "5 minutes", "5S", "5sec", "5 ms s",
      "5min", "1w", "P", "PT", "T5S", "5s5m", "1234567890123s", "\u0665s", "5\u00a0s"
  })
  void nonDurationIsRejectedNamingTheGivenField(String text) {
    ConfigurationException e = configError(() -> DurationText.parse("PGQRS_LEASE_DURATION", text));

    assertThat(e.field()).isEqualTo("PGQRS_LEASE_DURATION");
    assertThat(e.getMessage()).contains("PGQRS_LEASE_DURATION").contains("'" + text + "'");
  }

  @Test
  void rejectionNamesWhicheverFieldTheCallerPasses() {
    assertThat(configError(() -> DurationText.parse("myField", "nope")).field()).isEqualTo("myField");
  }

  @Test
  void isoNegativeDurationIsParsedAsNegative() {
    assertThat(DurationText.parse("f", "PT-1S")).isEqualTo(Duration.ofSeconds(-1));
  }
}
