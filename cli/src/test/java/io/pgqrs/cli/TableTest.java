package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TableTest {

  @Test
  void columnsAreAsWideAsTheirWidestCellAndLinesHaveNoTrailingSpaces() {
    String rendered = Table.of("ID", "NAME", "NOTE")
        .row(1, "emails", null)
        .row(12345, "x", "long note")
        .render();
    assertThat(rendered.lines()).containsExactly(
        "ID     NAME    NOTE",
        "1      emails  -",
        "12345  x       long note");
  }

  @Test
  void aTableWithoutRowsIsItsHeader() {
    Table table = Table.of("ID", "NAME");
    assertThat(table.isEmpty()).isTrue();
    assertThat(table.render()).isEqualTo("ID  NAME" + System.lineSeparator());
  }

  @Test
  void aRowMustFillTheColumns() {
    assertThatThrownBy(() -> Table.of("A", "B").row("only one")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void cellsReadOnOneLine() {
    assertThat(Text.cell(Instant.parse("2025-01-31T12:00:00.123456Z"))).isEqualTo("2025-01-31T12:00:00Z");
    assertThat(Text.cell(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Text.cell(Duration.ofSeconds(12))).isEqualTo("12s");
    assertThat(Text.cell(Duration.ofSeconds(187))).isEqualTo("3m07s");
    assertThat(Text.cell(Duration.ofMinutes(245))).isEqualTo("4h05m");
    assertThat(Text.cell(Duration.ofHours(51))).isEqualTo("2d3h");
    assertThat(Text.cell(true)).isEqualTo("yes");
    assertThat(Text.cell("two\nlines\tand a tab")).isEqualTo("two\\nlines\\tand a tab");
    assertThat(Text.abbreviate("x".repeat(100))).hasSize(Text.MAX_CELL).endsWith("...");
    assertThat(Text.abbreviate("short")).isEqualTo("short");
  }

  @Test
  void fieldsAlignTheirValues() {
    assertThat(new Fields().add("id", 7).add("last_error", null).render().lines())
        .containsExactly("id          7", "last_error  -");
  }
}
