package io.pgqrs.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.PrintWriter;
import java.util.function.Supplier;

/**
 * Where a command's one result goes: with {@code --json} one JSON document (times as ISO-8601
 * text, durations as ISO-8601 durations, indented), else the text the command renders.
 */
final class Output {

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final PrintWriter out;
  private final boolean json;

  Output(PrintWriter out, boolean json) {
    this.out = out;
    this.json = json;
  }

  /** The mapper JSON results and JSON arguments are written and read with. */
  static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * Prints the result: {@code document} as JSON under {@code --json}, else the text (rendered only
   * then). The text should end with a line separator.
   */
  void print(Object document, Supplier<String> text) {
    if (json) {
      try {
        out.println(MAPPER.writeValueAsString(document));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write the result as JSON: " + e.getOriginalMessage(), e);
      }
    } else {
      out.print(text.get());
    }
    out.flush();
  }
}
