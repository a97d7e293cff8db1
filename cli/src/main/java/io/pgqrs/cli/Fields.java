package io.pgqrs.cli;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One object printed as aligned {@code name  value} lines, for commands that show a single
 * message, run or report. A {@code null} value prints as {@code -}. Not thread-safe.
 */
final class Fields {

  private final List<String> names = new ArrayList<>();
  private final List<String> values = new ArrayList<>();

  /** Adds a field; its value is printed with {@link Text#cell(Object)}. */
  Fields add(String name, @Nullable Object value) {
    names.add(name);
    values.add(Text.cell(value));
    return this;
  }

  String render() {
    int width = names.stream().mapToInt(String::length).max().orElse(0);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < names.size(); i++) {
      out.append(names.get(i)).append(" ".repeat(width - names.get(i).length())).append("  ")
          .append(values.get(i)).append(System.lineSeparator());
    }
    return out.toString();
  }
}
