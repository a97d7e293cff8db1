package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.internal.SqlStatements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL store keeps its SQL in the files under {@code io/pgqrs/postgres/sql}: every
 * statement the Java code asks for exists, every statement in the files is asked for, and the Java
 * code of the package holds no SQL of its own. Reads the package's sources from the module
 * directory, so it runs without a database.
 */
class PostgresSqlResourcesTest {

  private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
  private static final Path SOURCES = MODULE.resolve("src/main/java/io/pgqrs/postgres");
  private static final Path SQL = MODULE.resolve("src/main/resources/io/pgqrs/postgres/sql");

  /** How the package's code asks for a statement. */
  private static final Pattern LOOKUP = Pattern.compile("\\bsql\\.get\\(\\s*\"([^\"]*)\"\\s*\\)");
  private static final Pattern ANY_LOOKUP = Pattern.compile("\\bsql\\.get\\(");

  private static final Pattern NAME_LINE = Pattern.compile("^--\\s*name:\\s*(\\S+)\\s*$");

  /** Upper-case SQL, matched as written. */
  private static final List<String> KEYWORDS = List.of("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "WITH ",
      "LISTEN", "NOTIFY", "CREATE ", "DROP ", " FROM ", "FOR UPDATE", "RETURNING");
  /** SQL that reads as SQL in any case. */
  private static final List<String> ANY_CASE = List.of("insert into", "delete from", "pg_notify", "for update",
      "select 1", "listen ", "notify ");

  /** Constructs that behave differently on SQLite and must say why where they are used. */
  private static final List<String> DIALECT_SPECIFIC = List.of("SKIP LOCKED", "pg_notify", "pg_advisory");

  private static Map<Path, String> javaSources() throws IOException {
    assertThat(SOURCES).as("the package's sources, from the module directory").isDirectory();
    Map<Path, String> sources = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(SOURCES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
        sources.put(file, Files.readString(file, StandardCharsets.UTF_8));
      }
    }
    assertThat(sources).isNotEmpty();
    return sources;
  }

  private static Set<String> requestedNames() throws IOException {
    Set<String> names = new TreeSet<>();
    for (Map.Entry<Path, String> source : javaSources().entrySet()) {
      String code = scan(source.getValue()).code();
      Matcher any = ANY_LOOKUP.matcher(code);
      int lookups = 0;
      while (any.find()) {
        lookups++;
      }
      Matcher m = LOOKUP.matcher(code);
      int literal = 0;
      while (m.find()) {
        names.add(m.group(1));
        literal++;
      }
      assertThat(literal).as("every statement lookup in %s names its statement with a literal",
          source.getKey().getFileName()).isEqualTo(lookups);
    }
    return names;
  }

  @Test
  void everyStatementTheDriverAsksForExistsAndEveryStatementIsAskedFor() throws IOException {
    SqlStatements statements = PostgresStatements.forSchema("pgqrs_sql_check");
    Set<String> requested = requestedNames();
    assertThat(requested).as("names the package's code asks for").isNotEmpty();
    assertThat(statements.all().keySet()).as("statements in the SQL files").containsAll(requested);
    assertThat(requested).as("statements some code asks for (no dead statements)")
        .containsAll(statements.all().keySet());
  }

  @Test
  void statementsAreSchemaQualifiedAndFullyResolved() {
    SqlStatements statements = PostgresStatements.forSchema("Mixed_Case");
    statements.all().forEach((name, sql) -> {
      assertThat(sql).as(name).doesNotContain("{{_").doesNotContain("{{schema");
      assertThat(sql.replace("\"Mixed_Case\".pgqrs_", "")).as(name + " names every table with its schema")
          .doesNotContainPattern("(FROM|JOIN|INTO|UPDATE|TABLE|EXISTS)\\s+pgqrs_");
    });
    assertThat(statements.get("claim")).contains("\"Mixed_Case\".pgqrs_messages");
    assertThat(statements.get("drop_schema_if_empty")).contains("'DROP SCHEMA \"Mixed_Case\"'");
  }

  @Test
  void listenNamesItsChannelAndRefusesAnythingElse() {
    SqlStatements statements = PostgresStatements.forSchema("pgqrs_sql_check");
    String channel = PostgresListener.channel("pgqrs_sql_check", "emails");
    assertThat(PostgresStatements.withChannel(statements.get("listen"), channel)).isEqualTo("LISTEN " + channel);
    assertThatThrownBy(
            () -> PostgresStatements.withChannel(statements.get("listen"), "x; DROP TABLE t"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theIndexListsEverySqlFileOnceAndEveryFragmentIsUsed() throws IOException {
    Set<String> onDisk = new TreeSet<>();
    try (Stream<Path> files = Files.list(SQL)) {
      files.filter(f -> f.toString().endsWith(".sql")).forEach(f -> onDisk.add(f.getFileName().toString()));
    }
    List<String> listed = PostgresStatements.FILES.stream()
        .map(path -> path.substring(path.lastIndexOf('/') + 1)).toList();
    assertThat(listed).doesNotHaveDuplicates();
    assertThat(new TreeSet<>(listed)).isEqualTo(onDisk);

    Map<String, String> fragments = new LinkedHashMap<>();
    StringBuilder all = new StringBuilder();
    for (String file : onDisk) {
      String text = Files.readString(SQL.resolve(file), StandardCharsets.UTF_8);
      all.append(text).append('\n');
      for (String line : text.split("\n")) {
        Matcher m = NAME_LINE.matcher(line.trim());
        if (m.matches() && m.group(1).startsWith("_")) {
          fragments.put(m.group(1), file);
        }
      }
    }
    assertThat(fragments).isNotEmpty();
    fragments.forEach((fragment, file) ->
        assertThat(all.toString()).as("fragment %s of %s is included somewhere", fragment, file)
            .contains("{{" + fragment + "}}"));
  }

  @Test
  void dialectSpecificStatementsSayWhyRightAfterTheirName() throws IOException {
    List<String> undocumented = new ArrayList<>();
    try (Stream<Path> files = Files.list(SQL)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".sql")).sorted().toList()) {
        String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < lines.length; i++) {
          Matcher m = NAME_LINE.matcher(lines[i].trim());
          if (!m.matches()) {
            continue;
          }
          boolean documented = i + 1 < lines.length && lines[i + 1].trim().startsWith("--");
          StringBuilder body = new StringBuilder();
          for (int j = i + 1; j < lines.length && !NAME_LINE.matcher(lines[j].trim()).matches(); j++) {
            body.append(lines[j]).append('\n');
          }
          boolean specific = DIALECT_SPECIFIC.stream().anyMatch(body.toString()::contains);
          if (specific && !documented) {
            undocumented.add(file.getFileName() + ": " + m.group(1));
          }
        }
      }
    }
    assertThat(undocumented).as("statements with a dialect-specific construct and no comment").isEmpty();
  }

  @Test
  void thePackagesJavaCodeHoldsNoSql() throws IOException {
    List<String> offending = new ArrayList<>();
    for (Map.Entry<Path, String> source : javaSources().entrySet()) {
      for (String literal : scan(source.getValue()).literals()) {
        String lower = literal.toLowerCase(Locale.ROOT);
        boolean sql = KEYWORDS.stream().anyMatch(literal::contains) || ANY_CASE.stream().anyMatch(lower::contains);
        if (sql) {
          offending.add(source.getKey().getFileName() + ": " + literal);
        }
      }
    }
    assertThat(offending).as("string literals with SQL in io.pgqrs.postgres").isEmpty();
  }

  @Test
  void everyStatementNameIsLowerSnakeCase() {
    Set<String> badNames = new LinkedHashSet<>();
    PostgresStatements.forSchema("pgqrs_sql_check").all().keySet().stream()
        .filter(name -> !name.matches("[a-z][a-z0-9]*(_[a-z0-9]+)*"))
        .forEach(badNames::add);
    assertThat(badNames).as("statement names not in lower_snake_case").isEmpty();
  }

  @Test
  void theSourceScannerTellsLiteralsFromCodeAndComments() {
    String code = """
        class X {
          // "SELECT 1" in a comment
          /* "DELETE FROM t" in a block comment */
          String a = "plain \\"quoted\\" text // not a comment";
          char c = '"';
          String b = \"""
              INSERT INTO t
              \""";
          int d = sql.get("x");
        }
        """;
    Source scanned = scan(code);
    assertThat(scanned.literals()).containsExactly("plain \\\"quoted\\\" text // not a comment",
        "      INSERT INTO t\n      ", "x");
    assertThat(scanned.code()).doesNotContain("SELECT 1").doesNotContain("DELETE FROM").contains("sql.get(\"x\")");
  }

  /** Java source split into its code without comments and the contents of its string literals. */
  record Source(String code, List<String> literals) {}

  /**
   * Scans Java source: comments are dropped from the code, string literals and text blocks are kept
   * in it and collected with their escapes as written.
   */
  static Source scan(String text) {
    StringBuilder code = new StringBuilder(text.length());
    List<String> literals = new ArrayList<>();
    int n = text.length();
    int i = 0;
    while (i < n) {
      char ch = text.charAt(i);
      if (text.startsWith("//", i)) {
        int end = text.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (text.startsWith("/*", i)) {
        int end = text.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
        code.append(' ');
      } else if (text.startsWith("\"\"\"", i)) {
        int start = text.indexOf('\n', i) + 1;
        int end = start;
        while (end < n && !(text.startsWith("\"\"\"", end) && text.charAt(end - 1) != '\\')) {
          end++;
        }
        literals.add(text.substring(start, Math.min(end, n)));
        int after = Math.min(end + 3, n);
        code.append(text, i, after);
        i = after;
      } else if (ch == '"' || ch == '\'') {
        int end = i + 1;
        while (end < n && text.charAt(end) != ch) {
          end += text.charAt(end) == '\\' ? 2 : 1;
        }
        if (ch == '"') {
          literals.add(text.substring(i + 1, Math.min(end, n)));
        }
        int after = Math.min(end + 1, n);
        code.append(text, i, after);
        i = after;
      } else {
        code.append(ch);
        i++;
      }
    }
    return new Source(code.toString(), literals);
  }
}
