package io.pgqrs.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An aligned text table: a header row of column names, then rows of cells, each column as wide as
 * its widest cell, columns two spaces apart, trailing spaces trimmed. A {@code null} cell prints
 * as {@code -}. Not thread-safe; build, then {@link #render()}.
 */
final class Table {

  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  private Table(List<String> header) {
    this.header = header;
  }

  static Table of(String... columns) {
    if (columns.length == 0) {
      throw new IllegalArgumentException("a table needs at least one column");
    }
    return new Table(List.of(columns));
  }

  /** Adds a row; its cells are printed with {@link Text#cell(Object)}. */
  Table row(Object... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException("a row of " + cells.length + " cells for " + header.size() + " columns");
    }
    rows.add(Arrays.stream(cells).map(Text::cell).toList());
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  /** The table's lines, each ending with a line separator; the header alone when it has no row. */
  String render() {
    int[] widths = new int[header.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = header.get(c).length();
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, header, widths);
    for (List<String> row : rows) {
      line(out, row, widths);
    }
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int c = 0; c < cells.size(); c++) {
      if (c > 0) {
        line.append("  ");
      }
      String cell = cells.get(c);
      line.append(cell).append(" ".repeat(widths[c] - cell.length()));
    }
    int end = line.length();
    while (end > 0 && line.charAt(end - 1) == ' ') {
      end--;
    }
    out.append(line, 0, end).append(System.lineSeparator());
  }
}
