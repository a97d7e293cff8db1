package io.pgqrs.bench;

import io.pgqrs.internal.SqlStatements;
import io.pgqrs.postgres.PostgresStatements;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The engine's own PostgreSQL claim, archive and vacuum statements, read through
 * {@link PostgresStatements} from the SQL files the store runs, so the JDBC ceiling runs exactly
 * the SQL pgqrs ships and can never drift from it. The statements use R2DBC's {@code $n} markers;
 * {@link #jdbc(String)} rewrites them for JDBC.
 */
final class EngineSql {

  private static final Pattern MARKER = Pattern.compile("\\$(\\d+)");

  /** A statement rewritten for JDBC: {@code ?} markers and, for each, the {@code $n} it stood for. */
  record JdbcStatement(String sql, int[] parameters) {}

  final String claim;
  final String archiveMany;
  /** The engine's vacuum of its hot table, which it runs after every 10,000 claimed messages. */
  final String vacuumMessages;

  private EngineSql(String claim, String archiveMany, String vacuumMessages) {
    this.claim = claim;
    this.archiveMany = archiveMany;
    this.vacuumMessages = vacuumMessages;
  }

  /**
   * Builds the statements of one schema, as the engine does.
   *
   * @param schema the schema, unquoted
   * @throws io.pgqrs.ConfigurationException if the schema name is invalid
   */
  static EngineSql forSchema(String schema) {
    SqlStatements sql = PostgresStatements.forSchema(schema);
    return new EngineSql(sql.get("claim"), sql.get("archive_many"), sql.get("vacuum_messages"));
  }

  /** Rewrites {@code $n} markers to {@code ?}, remembering which {@code $n} each one binds. */
  static JdbcStatement jdbc(String r2dbcSql) {
    Matcher m = MARKER.matcher(r2dbcSql);
    StringBuilder sb = new StringBuilder();
    List<Integer> order = new ArrayList<>();
    while (m.find()) {
      order.add(Integer.parseInt(m.group(1)));
      m.appendReplacement(sb, "?");
    }
    m.appendTail(sb);
    return new JdbcStatement(sb.toString(), order.stream().mapToInt(Integer::intValue).toArray());
  }
}
