package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.spi.StoreDriver;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the hostile-input contract needs of the SQLite-dialect backends, whose payload column is
 * plain text and so holds anything.
 */
final class SqliteHostileInput {

  private SqliteHostileInput() {}

  /** The contract's texts, and text that is not JSON, JSON that is not an object, and nothing at all. */
  static List<String> unreadablePayloads(List<String> common) {
    return Stream.concat(common.stream(), Stream.of("not json {", "[1, 2]", "")).toList();
  }

  /** Writes the text into the message's payload column with SQL, behind the engine's back. */
  static void overwritePayload(StoreDriver driver, long messageId, String storedText) {
    Long updated = ((SqliteDriver) driver).executor().statements("corrupt a payload",
            s -> s.update("UPDATE pgqrs_messages SET payload = ?1 WHERE id = ?2", storedText, messageId))
        .block(Duration.ofSeconds(30));
    assertThat(updated).isEqualTo(1L);
  }
}
