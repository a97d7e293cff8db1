package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What compacting a statement's text keeps byte for byte, and what it drops. */
class SqlCompactionTest {

  @Test
  void commentsAndWhitespaceRunsBecomeOneSpace() {
    assertThat(SqlStatements.compact("""
        WITH n AS (SELECT now() AS now), -- the clock
        t AS (
            SELECT *   FROM x
            WHERE id = $1) -- trailing
        SELECT * FROM t
        """)).isEqualTo("WITH n AS (SELECT now() AS now), t AS ( SELECT * FROM x WHERE id = $1) SELECT * FROM t");
  }

  @Test
  void stringLiteralsAndQuotedIdentifiersAreKeptAsTheyAre() {
    String sql = "SELECT '  two  spaces -- not a comment\n''quoted''' AS \"a  \"\"b\"\" -- c\",\n  'x'";
    assertThat(SqlStatements.compact(sql))
        .isEqualTo("SELECT '  two  spaces -- not a comment\n''quoted''' AS \"a  \"\"b\"\" -- c\", 'x'");
  }

  @Test
  void dollarQuotedBodiesAreKeptAndParametersAreNotQuotes() {
    String body = "$$ BEGIN\n  EXECUTE 'DROP  x'; -- kept\nEND $$";
    assertThat(SqlStatements.compact("DO   " + body + "\n")).isEqualTo("DO " + body);
    assertThat(SqlStatements.compact("SELECT $fn$ a  -- b $fn$,  $1,\n$2::text")).isEqualTo("SELECT $fn$ a  -- b $fn$, $1, $2::text");
    assertThat(SqlStatements.compact("SELECT a$b$c  FROM t")).as("a $ inside an identifier").isEqualTo("SELECT a$b$c FROM t");
  }

  @Test
  void anUnterminatedQuoteKeepsTheRestOfTheText() {
    assertThat(SqlStatements.compact("SELECT 'a  -- b")).isEqualTo("SELECT 'a  -- b");
    assertThat(SqlStatements.compact("SELECT $q$ a  b")).isEqualTo("SELECT $q$ a  b");
  }

  @Test
  void loadedStatementsAreCompactedAfterFragmentsAndSubstitutions() {
    SqlStatements sql = SqlStatements.load(SqlCompactionTest.class, List.of("/io/pgqrs/internal/compaction-test.sql"),
        Map.of("schema", "\"we  ird -- \"\"s\"\"\"", "label", "a  -- b"));
    assertThat(sql.get("pick"))
        .isEqualTo("SELECT id, name FROM \"we  ird -- \"\"s\"\"\".t WHERE label = 'a  -- b'");
  }

  @Test
  void everyPostgresStatementIsOneLineButItsDollarQuotedBodies() {
    SqlStatements sql = io.pgqrs.postgres.PostgresStatements.forSchema("pgqrs_compact");
    assertThat(sql.all()).isNotEmpty().allSatisfy((name, text) -> assertThat(text.replaceAll("(?s)\\$\\$.*?\\$\\$", "\\$\\$"))
        .as(name).doesNotContain("\n").doesNotContain("  ").doesNotStartWith(" ").doesNotEndWith(" "));
  }
}
