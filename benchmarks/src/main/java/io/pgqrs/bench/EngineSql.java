package io.pgqrs.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The engine's own PostgreSQL claim and archive statements, read from its SQL class
 * ({@code io.pgqrs.postgres.PostgresSql}, package-private) through a private method-handle lookup,
 * so the JDBC ceiling runs exactly the SQL pgqrs ships and can never drift from it. The
 * statements use R2DBC's {@code $n} markers; {@link #jdbc(String)} rewrites them for JDBC.
 */
final class EngineSql {

  private static final Pattern MARKER = Pattern.compile("\\$(\\d+)");

  /** A statement rewritten for JDBC: {@code ?} markers and, for each, the {@code $n} it stood for. */
  record JdbcStatement(String sql, int[] parameters) {}

  final String claim;
  final String archiveMany;

  private EngineSql(String claim, String archiveMany) {
    this.claim = claim;
    this.archiveMany = archiveMany;
  }

  /**
   * Builds the statements of one schema, as the engine does.
   *
   * @throws IllegalStateException if the engine's SQL class changed shape
   */
  static EngineSql forSchema(String schema) {
    try {
      Class<?> type = Class.forName("io.pgqrs.postgres.PostgresSql");
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
      MethodHandle ctor = lookup.findConstructor(type, MethodType.methodType(void.class, String.class));
      Object sql = ctor.invoke("\"" + schema.replace("\"", "\"\"") + "\"");
      String claim = (String) lookup.findGetter(type, "claim", String.class).invoke(sql);
      String archiveMany = (String) lookup.findGetter(type, "archiveMany", String.class).invoke(sql);
      return new EngineSql(claim, archiveMany);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot read the engine's claim/archive SQL from "
          + "io.pgqrs.postgres.PostgresSql (did it change?): " + e, e);
    }
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
