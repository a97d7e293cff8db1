package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The SQL of the SQLite dialect lives in {@code io/pgqrs/sqlite/sql/<table>.sql} only: every name
 * the Java code asks for is defined there, every statement there is asked for, every file is in
 * the index, every statement compiles on an installed database, and no Java source of the module
 * holds SQL text.
 */
class SqliteSqlResourcesTest {

  private static final Duration T = Duration.ofSeconds(30);
  private static final Path MAIN_JAVA = Path.of("src/main/java");
  private static final Path SQL_DIRECTORY = Path.of("src/main/resources/io/pgqrs/sqlite/sql");
  private static final Pattern STATEMENT_NAME = Pattern.compile("\\bsql\\(\"([A-Za-z0-9_]+)\"\\)");
  private static final List<String> SQL_KEYWORDS = List.of("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM",
      "WITH ", "CREATE ", "DROP ", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK");

  private static List<Path> mainSources() {
    try (Stream<Path> files = Files.walk(MAIN_JAVA)) {
      return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The statement names the Java sources pass to {@code SqliteSql.sql}, with a file naming each. */
  private static Map<String, String> namesUsedByJava() {
    Map<String, String> used = new TreeMap<>();
    for (Path file : mainSources()) {
      Matcher m = STATEMENT_NAME.matcher(read(file));
      while (m.find()) {
        used.putIfAbsent(m.group(1), file.getFileName().toString());
      }
    }
    return used;
  }

  @Test
  void everyStatementTheJavaCodeNamesIsDefined() {
    Map<String, String> used = namesUsedByJava();
    assertThat(used).as("names passed to sql(...)").isNotEmpty();
    Set<String> defined = SqliteSql.statements().all().keySet();
    assertThat(used.keySet()).as("statements named in Java (name=file): %s", used).isSubsetOf(defined);
  }

  @Test
  void everyDefinedStatementIsUsedByTheJavaCode() {
    Set<String> used = namesUsedByJava().keySet();
    Set<String> unused = new TreeSet<>(SqliteSql.statements().all().keySet());
    unused.removeAll(used);
    assertThat(unused).as("statements of the .sql files that no Java code names").isEmpty();
  }

  @Test
  void theIndexListsEverySqlFileOfTheDirectory() throws IOException {
    List<String> listed = SqliteDriver.readLines(SqliteSql.DIRECTORY + "index");
    List<String> present;
    try (Stream<Path> files = Files.list(SQL_DIRECTORY)) {
      present = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".sql")).sorted().toList();
    }
    assertThat(listed).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(present);
    assertThat(listed).contains("schema.sql", "queues.sql", "messages.sql", "workers.sql", "sweeps.sql",
        "workflows.sql", "runs.sql", "steps.sql", "signals.sql");
  }

  @Test
  void noJavaSourceOfTheModuleHoldsSqlText() {
    List<String> offending = new ArrayList<>();
    for (Path file : mainSources()) {
      for (String literal : stringLiterals(read(file))) {
        for (String keyword : SQL_KEYWORDS) {
          if (literal.contains(keyword)) {
            offending.add(file.getFileName() + ": \"" + literal + "\" contains " + keyword.strip());
          }
        }
      }
    }
    assertThat(offending).isEmpty();
  }

  @Test
  void theLiteralScannerFindsSqlInStringsAndTextBlocksButNotInComments() {
    String source = """
        // SELECT 1 in a line comment
        /* DELETE FROM x in a block comment */
        class X {
          String a = "SELECT \\"x\\" FROM t";
          char q = '"';
          String b = \"""
              UPDATE t SET x = 1\""";
        }
        """;
    List<String> literals = stringLiterals(source);
    assertThat(literals).hasSize(2);
    assertThat(literals.get(0)).isEqualTo("SELECT \\\"x\\\" FROM t");
    assertThat(literals.get(1)).contains("UPDATE t SET x = 1").doesNotContain("\"");
  }

  @Test
  void everyStatementCompilesOnAnInstalledDatabase() throws SQLException {
    Path file = SqliteStores.newFile();
    Store store = SqliteStores.file(file);
    try {
      store.admin().install().block(T);
    } finally {
      store.close().block(T);
    }
    List<String> failures = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      for (Map.Entry<String, String> e : SqliteSql.statements().all().entrySet()) {
        for (String statement : SqliteDriver.statementsOf(e.getValue())) {
          try (PreparedStatement compiled = c.prepareStatement(statement)) {
            assertThat(compiled.getParameterMetaData().getParameterCount()).isNotNegative();
          } catch (SQLException error) {
            failures.add(e.getKey() + ": " + error.getMessage());
          }
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  /**
   * The string literals and text blocks of a Java source, outside comments and char literals, as
   * written (escapes not decoded); a text block's content starts on the line after its opening.
   */
  static List<String> stringLiterals(String source) {
    List<String> literals = new ArrayList<>();
    int i = 0;
    int n = source.length();
    while (i < n) {
      char c = source.charAt(i);
      if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
        int end = source.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
        int end = source.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '\'') {
        i++;
        while (i < n && source.charAt(i) != '\'') {
          i += source.charAt(i) == '\\' ? 2 : 1;
        }
        i++;
      } else if (source.startsWith("\"\"\"", i)) {
        int start = source.indexOf('\n', i) + 1;
        int j = start;
        while (j < n && !source.startsWith("\"\"\"", j)) {
          j += source.charAt(j) == '\\' ? 2 : 1;
        }
        literals.add(source.substring(start, j));
        i = j + 3;
      } else if (c == '"') {
        int j = i + 1;
        while (j < n && source.charAt(j) != '"') {
          j += source.charAt(j) == '\\' ? 2 : 1;
        }
        literals.add(source.substring(i + 1, j));
        i = j + 1;
      } else {
        i++;
      }
    }
    return literals;
  }
}
