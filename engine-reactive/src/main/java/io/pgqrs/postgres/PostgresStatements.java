package io.pgqrs.postgres;

import io.pgqrs.internal.Names;
import io.pgqrs.internal.SqlStatements;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every SQL statement of the PostgreSQL store, read from the files under
 * {@code io/pgqrs/postgres/sql/}: one file per table, listed by that directory's {@code index}.
 * <strong>Not API</strong>: public only so the benchmarks can run exactly the statements the store
 * runs; it may change or go away in any release.
 *
 * <p>The files' placeholders: {@code {{schema}}} is the quoted schema, so every statement is
 * schema-qualified; {@code {{schema_literal}}} is the same text written inside a string literal;
 * {@code {{channel}}} stays in the loaded text and {@link #withChannel} fills it per call, for the
 * one statement (LISTEN) that takes no bind parameter. Statements read the optional clock override
 * as {@code $1} where they read the clock at all.
 */
public final class PostgresStatements {

  private static final String DIRECTORY = "/io/pgqrs/postgres/sql/";

  /** The per-call placeholder; loading leaves it in the text. */
  private static final String CHANNEL = "{{channel}}";

  /** What {@link PostgresListener#channel} makes: safe unquoted, and never folded by the server. */
  private static final Pattern CHANNEL_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** The resource paths the index lists, in its order. */
  static final List<String> FILES = files();

  private PostgresStatements() {}

  /**
   * Reads every statement of the store for one schema. The files are parsed on each call, so a
   * driver calls this once and keeps the result.
   *
   * @param schema the schema name, unquoted (checked as {@link Names#checkSchema} does)
   * @return the statements by name, schema-qualified
   * @throws io.pgqrs.ConfigurationException if the schema name is invalid
   * @throws IllegalStateException if a file is missing or malformed
   */
  public static SqlStatements forSchema(String schema) {
    String quoted = Names.quoteIdentifier(schema);
    return SqlStatements.load(PostgresStatements.class, FILES,
        Map.of("schema", quoted, "schema_literal", quoted.replace("'", "''"), "channel", CHANNEL));
  }

  /**
   * Fills the channel of a statement that names it in its text.
   *
   * @param statement a statement with a {@code {{channel}}} placeholder
   * @param channel a channel name from {@link PostgresListener#channel}
   * @return the statement naming the channel
   * @throws IllegalArgumentException if the name is not a plain lower-case identifier
   */
  static String withChannel(String statement, String channel) {
    if (!CHANNEL_NAME.matcher(channel).matches()) {
      throw new IllegalArgumentException("not a channel name: " + channel);
    }
    return statement.replace(CHANNEL, channel);
  }

  private static List<String> files() {
    List<String> result = new ArrayList<>();
    for (String line : resource(DIRECTORY + "index").split("\n")) {
      if (!line.isBlank()) {
        result.add(DIRECTORY + line.trim());
      }
    }
    return List.copyOf(result);
  }

  /**
   * A resource of this package's jar as text, lines ending in {@code \n}.
   *
   * @param path the absolute resource path
   * @return its text
   * @throws IllegalStateException if it is missing
   */
  static String resource(String path) {
    try (InputStream in = PostgresStatements.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        StringBuilder text = new StringBuilder();
        reader.lines().forEach(line -> text.append(line).append('\n'));
        return text.toString();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
