package io.pgqrs.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The named SQL statements of one backend, read once from resource files. Not API: the store
 * drivers and the benchmarks use it, and it may change in any release.
 *
 * <p>A file holds statements introduced by a {@code -- name: <name>} line and ending at the next
 * such line or at the end of the file; one trailing semicolon is dropped. Comment lines right after
 * the name line document the statement (why it differs between dialects, what it guarantees) and
 * are dropped from its text. A name starting with {@code _} is a fragment: it is not a statement of
 * its own, and other statements include it as {@code {{_name}}}. {@code {{key}}} with a key of the
 * substitutions given to {@link #load} is replaced by its value (the schema, for example). Any
 * other {@code {{...}}} is an error at load time, as is a name defined twice, so a typo fails when
 * the driver is made, never at the first use of a statement.
 */
public final class SqlStatements {

  private static final Pattern NAME_LINE = Pattern.compile("^--\\s*name:\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*$");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Za-z_][A-Za-z0-9_]*)}}");

  private final Map<String, String> statements;
  private final Map<String, String> origins;

  private SqlStatements(Map<String, String> statements, Map<String, String> origins) {
    this.statements = statements;
    this.origins = origins;
  }

  /**
   * Reads the statements of the given resource files.
   *
   * @param anchor the class whose loader finds the resources
   * @param resources absolute resource paths, for example {@code /io/pgqrs/postgres/sql/messages.sql}
   * @param substitutions values of the {@code {{key}}} placeholders that are not fragments
   * @return the statements by name
   * @throws IllegalStateException when a file is missing, a name is defined twice or a placeholder
   *     is unknown
   */
  public static SqlStatements load(Class<?> anchor, List<String> resources, Map<String, String> substitutions) {
    Map<String, String> raw = new LinkedHashMap<>();
    Map<String, String> origins = new LinkedHashMap<>();
    for (String resource : resources) {
      parse(resource, read(anchor, resource), raw, origins);
    }
    Map<String, String> resolved = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : raw.entrySet()) {
      if (!e.getKey().startsWith("_")) {
        resolved.put(e.getKey(), resolve(e.getKey(), e.getValue(), raw, substitutions, 0));
      }
    }
    origins.keySet().removeIf(name -> name.startsWith("_"));
    return new SqlStatements(Collections.unmodifiableMap(resolved), Collections.unmodifiableMap(origins));
  }

  /**
   * The statement of a name.
   *
   * @param name the name given on its {@code -- name:} line
   * @return its text, fragments and substitutions resolved
   * @throws IllegalArgumentException when no file defines it
   */
  public String get(String name) {
    String sql = statements.get(name);
    if (sql == null) {
      throw new IllegalArgumentException("no SQL statement named '" + name + "' in " + Set.copyOf(origins.values()));
    }
    return sql;
  }

  /**
   * Every statement by name, in file order (fragments excluded).
   *
   * @return an unmodifiable view
   */
  public Map<String, String> all() {
    return statements;
  }

  /**
   * The resource file that defines a statement.
   *
   * @param name the statement
   * @return its resource path, or null if none defines it
   */
  public @org.jspecify.annotations.Nullable String origin(String name) {
    return origins.get(name);
  }

  private static void parse(String resource, String text, Map<String, String> raw, Map<String, String> origins) {
    String current = null;
    StringBuilder body = new StringBuilder();
    boolean inHeader = false;
    for (String line : text.split("\n", -1)) {
      Matcher m = NAME_LINE.matcher(line.trim());
      if (m.matches()) {
        put(resource, current, body, raw, origins);
        current = m.group(1);
        body.setLength(0);
        inHeader = true;
        continue;
      }
      if (current == null) {
        continue; // the file's own header comment
      }
      if (inHeader && line.trim().startsWith("--")) {
        continue;
      }
      inHeader = false;
      body.append(line).append('\n');
    }
    put(resource, current, body, raw, origins);
  }

  private static void put(String resource, String name, StringBuilder body, Map<String, String> raw,
      Map<String, String> origins) {
    if (name == null) {
      return;
    }
    String sql = body.toString().strip();
    if (sql.endsWith(";")) {
      sql = sql.substring(0, sql.length() - 1).stripTrailing();
    }
    if (sql.isEmpty()) {
      throw new IllegalStateException("SQL statement '" + name + "' in " + resource + " is empty");
    }
    String before = origins.putIfAbsent(name, resource);
    if (before != null) {
      throw new IllegalStateException("SQL statement '" + name + "' is defined in " + before + " and " + resource);
    }
    raw.put(name, sql);
  }

  private static String resolve(String name, String sql, Map<String, String> raw, Map<String, String> substitutions,
      int depth) {
    if (depth > 8) {
      throw new IllegalStateException("SQL fragments nest too deep at '" + name + "'");
    }
    Matcher m = PLACEHOLDER.matcher(sql);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String key = m.group(1);
      String value;
      if (key.startsWith("_")) {
        String fragment = raw.get(key);
        if (fragment == null) {
          throw new IllegalStateException("SQL statement '" + name + "' includes unknown fragment {{" + key + "}}");
        }
        value = resolve(key, fragment, raw, substitutions, depth + 1);
      } else {
        value = substitutions.get(key);
        if (value == null) {
          throw new IllegalStateException("SQL statement '" + name + "' uses unknown placeholder {{" + key + "}}");
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String read(Class<?> anchor, String resource) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing SQL resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
