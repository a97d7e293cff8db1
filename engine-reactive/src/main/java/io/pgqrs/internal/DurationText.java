package io.pgqrs.internal;

import io.pgqrs.ConfigurationException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d} or ISO-8601. */
public final class DurationText {

  private static final Pattern SIMPLE = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

  private DurationText() {}

  /**
   * Parses a duration.
   *
   * @param field the field name to report on error
   * @param text the text
   * @return the duration
   * @throws ConfigurationException naming {@code field} if the text is not a duration
   */
  public static Duration parse(String field, String text) {
    String trimmed = text.trim();
    Matcher m = SIMPLE.matcher(trimmed);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(trimmed);
    } catch (DateTimeParseException e) {
      throw new ConfigurationException(
          field, field + ": '" + text + "' is not a duration (examples: 500ms, 30s, 5m, 2h, 7d, PT30S)");
    }
  }
}
