package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ConvertersTest {

  private static final Instant NOW = Instant.parse("2025-01-31T12:00:00Z");

  @Test
  void durationsAreShortOrIso() {
    assertThat(Converters.duration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Converters.duration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Converters.duration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Converters.duration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Converters.duration("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(Converters.duration("PT1H30M")).isEqualTo(Duration.ofMinutes(90));
    assertThatThrownBy(() -> Converters.duration("soon")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("'soon' is not a duration");
  }

  @Test
  void sinceIsATimeADateOrADurationBeforeNow() {
    assertThat(Converters.since("2025-01-30T08:00:00Z", NOW)).isEqualTo(Instant.parse("2025-01-30T08:00:00Z"));
    assertThat(Converters.since("2025-01-30T10:00:00+02:00", NOW)).isEqualTo(Instant.parse("2025-01-30T08:00:00Z"));
    assertThat(Converters.since("2025-01-30", NOW)).isEqualTo(Instant.parse("2025-01-30T00:00:00Z"));
    assertThat(Converters.since("1h", NOW)).isEqualTo(Instant.parse("2025-01-31T11:00:00Z"));
    assertThat(Converters.since("P2D", NOW)).isEqualTo(Instant.parse("2025-01-29T12:00:00Z"));
    assertThatThrownBy(() -> Converters.since("yesterday", NOW)).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("'yesterday' is neither");
  }

  @Test
  void jsonArgumentsAreOneDocument() {
    Converters.JsonConverter json = new Converters.JsonConverter();
    assertThat(json.convert("true").booleanValue()).isTrue();
    assertThat(json.convert("{\"approved\": true}").get("approved").booleanValue()).isTrue();
    assertThat(json.convert("\"text\"").textValue()).isEqualTo("text");
    assertThat(json.convert("null").isNull()).isTrue();
    assertThatThrownBy(() -> json.convert("yes")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("is not JSON");
    assertThatThrownBy(() -> json.convert("{} {}")).isInstanceOf(TypeConversionException.class);
    assertThatThrownBy(() -> json.convert("")).isInstanceOf(TypeConversionException.class);
  }
}
