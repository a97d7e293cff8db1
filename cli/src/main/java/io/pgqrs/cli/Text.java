package io.pgqrs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/** How values read in tables and fields: times to the second in UTC, short durations, one line each. */
final class Text {

  /** Cells longer than this (payloads, errors) are cut in tables; {@code --json} has them whole. */
  static final int MAX_CELL = 60;

  private Text() {}

  static String cell(@Nullable Object value) {
    if (value == null) {
      return "-";
    }
    if (value instanceof Instant instant) {
      return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }
    if (value instanceof Duration duration) {
      return age(duration);
    }
    if (value instanceof Boolean b) {
      return b ? "yes" : "no";
    }
    if (value instanceof JsonNode json) {
      return oneLine(json.toString());
    }
    return oneLine(value.toString());
  }

  /** A duration as its two largest units: {@code 2d3h}, {@code 4h05m}, {@code 3m07s}, {@code 12s}, {@code 250ms}. */
  static String age(Duration duration) {
    Duration d = duration.isNegative() ? Duration.ZERO : duration;
    long days = d.toDays();
    if (days > 0) {
      return days + "d" + d.toHoursPart() + "h";
    }
    if (d.toHours() > 0) {
      return d.toHours() + "h" + String.format("%02dm", d.toMinutesPart());
    }
    if (d.toMinutes() > 0) {
      return d.toMinutes() + "m" + String.format("%02ds", d.toSecondsPart());
    }
    if (d.getSeconds() > 0) {
      return d.getSeconds() + "s";
    }
    return d.toMillis() + "ms";
  }

  /** The text on one line: line breaks and tabs shown as {@code \n}, {@code \r} and {@code \t}. */
  static String oneLine(String text) {
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
  }

  /** Cuts a cell to {@link #MAX_CELL} characters, ending with {@code ...} when cut. */
  static @Nullable String abbreviate(@Nullable Object value) {
    if (value == null) {
      return null;
    }
    String text = cell(value);
    return text.length() <= MAX_CELL ? text : text.substring(0, MAX_CELL - 3) + "...";
  }
}
