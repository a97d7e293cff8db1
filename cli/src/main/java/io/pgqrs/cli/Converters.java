package io.pgqrs.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Argument types the parser reads; a value that does not read is a usage error (exit 2). */
final class Converters {

  private Converters() {}

  /**
   * A duration written {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d} or ISO-8601
   * ({@code PT1H30M}).
   *
   * @throws TypeConversionException if it is neither
   */
  static Duration duration(String text) {
    try {
      return io.pgqrs.internal.DurationText.parse("duration", text);
    } catch (io.pgqrs.ConfigurationException e) {
      throw new TypeConversionException("'" + text + "' is not a duration (like 500ms, 30s, 5m, 2h, 7d or PT1H)");
    }
  }


  /**
   * An instant: ISO-8601 with an offset ({@code 2025-01-31T12:00:00Z}, {@code ...+02:00}), a date
   * (its start in UTC), or a duration meaning that long before {@code now}.
   *
   * @throws TypeConversionException if it is none of them
   */
  static Instant since(String text, Instant now) {
    String trimmed = text.trim();
    try {
      return OffsetDateTime.parse(trimmed).toInstant();
    } catch (DateTimeParseException notADateTime) {
      // Next form.
    }
    try {
      return LocalDate.parse(trimmed).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException notADate) {
      // Next form.
    }
    try {
      return now.minus(duration(trimmed));
    } catch (TypeConversionException notADuration) {
      throw new TypeConversionException("'" + text + "' is neither an ISO-8601 time (2025-01-31T12:00:00Z),"
          + " a date (2025-01-31) nor a duration before now (like 30m, 2h, 7d)");
    }
  }

  /** {@link #duration(String)} for the parser. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return duration(value);
    }
  }

  /** {@link #since(String, Instant)} for the parser, before the clock's current instant. */
  static final class SinceConverter implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      return since(value, Instant.now());
    }
  }

  /** A JSON document (an object, array, string, number, boolean or null). */
  static final class JsonConverter implements ITypeConverter<JsonNode> {
    @Override
    public JsonNode convert(String value) {
      try {
        JsonNode node = Output.mapper().readTree(value);
        if (node == null || node.isMissingNode()) {
          throw new TypeConversionException("an empty value is not JSON (send null as 'null')");
        }
        return node;
      } catch (JsonProcessingException e) {
        throw new TypeConversionException("'" + value + "' is not JSON: " + e.getOriginalMessage()
            + " (quote a string: '\"text\"')");
      }
    }
  }
}
