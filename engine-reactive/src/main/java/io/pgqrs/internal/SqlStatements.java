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
 *
 * <p>The resolved text is compacted (see {@link #compact}): comments dropped, whitespace runs
 * outside quotes collapsed to one space. The files stay readable and commented, and the drivers
 * send and parse a shorter text (the hot workflow statements by 8-15 %): r2dbc-postgresql
 * tokenizes a statement's whole text on every execution, which shows in the profile of the
 * workflow hot path.
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
        resolved.put(e.getKey(), compact(resolve(e.getKey(), e.getValue(), raw, substitutions, 0)));
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

  /**
   * Drops {@code --} comments and collapses each run of whitespace to one space, outside string
   * literals ({@code '...'}, {@code ''} inside), quoted identifiers ({@code "..."}, {@code ""}
   * inside) and dollar-quoted bodies ({@code $tag$...$tag$}), which are kept byte for byte; a
   * parameter such as {@code $1} is not a dollar quote. The statement means what it meant: SQL
   * treats a comment and any whitespace run alike, as a token separator.
   *
   * @param sql a statement's text
   * @return the text without comments and redundant whitespace
   */
  static String compact(String sql) {
    StringBuilder out = new StringBuilder(sql.length());
    int n = sql.length();
    int i = 0;
    boolean separate = false;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        int eol = sql.indexOf('\n', i);
        i = eol < 0 ? n : eol;
        separate = true;
        continue;
      }
      if (Character.isWhitespace(c)) {
        separate = true;
        i++;
        continue;
      }
      if (separate && !out.isEmpty()) {
        out.append(' ');
      }
      separate = false;
      int end = i + 1;
      if (c == '\'' || c == '"') {
        end = quotedEnd(sql, i, c);
      } else if (c == '$' && !continuesWord(out)) {
        end = dollarQuotedEnd(sql, i);
      }
      out.append(sql, i, end);
      i = end;
    }
    return out.toString();
  }

  /** The index after a quoted token starting at {@code start}: a doubled quote stays inside it. */
  private static int quotedEnd(String sql, int start, char quote) {
    int i = start + 1;
    while (i < sql.length()) {
      if (sql.charAt(i) == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return sql.length();
  }

  /** The index after a dollar-quoted body starting at {@code start}, or after the $ when none starts there. */
  private static int dollarQuotedEnd(String sql, int start) {
    int k = start + 1;
    if (k < sql.length() && Character.isDigit(sql.charAt(k))) {
      return start + 1; // a parameter
    }
    while (k < sql.length() && (Character.isLetterOrDigit(sql.charAt(k)) || sql.charAt(k) == '_')) {
      k++;
    }
    if (k >= sql.length() || sql.charAt(k) != '$') {
      return start + 1;
    }
    String tag = sql.substring(start, k + 1);
    int close = sql.indexOf(tag, k + 1);
    return close < 0 ? sql.length() : close + tag.length();
  }

  /** Whether the next character would continue a word: a $ inside an identifier starts no quote. */
  private static boolean continuesWord(StringBuilder out) {
    if (out.isEmpty()) {
      return false;
    }
    char last = out.charAt(out.length() - 1);
    return Character.isLetterOrDigit(last) || last == '_' || last == '$';
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
