package io.pgqrs.sqlite;

import io.pgqrs.internal.SqlStatements;
import java.util.List;
import java.util.Map;

/**
 * Every SQL statement of the SQLite dialect (SQLite over JDBC and Turso over Hrana), read once from
 * the files {@code io/pgqrs/sqlite/sql/<table>.sql} that {@code io/pgqrs/sqlite/sql/index} lists.
 * The Java code of this package names statements and binds their parameters; it holds no SQL.
 */
final class SqliteSql {

  /** Where the statement files are. */
  static final String DIRECTORY = "/io/pgqrs/sqlite/sql/";

  /** The statement files, in the order of the index. */
  static final List<String> FILES =
      SqliteDriver.readLines(DIRECTORY + "index").stream().map(f -> DIRECTORY + f).toList();

  private static final SqlStatements STATEMENTS = SqlStatements.load(SqliteSql.class, FILES, Map.of());

  private SqliteSql() {}

  /**
   * The statement of a name.
   *
   * @param name the name on its {@code -- name:} line
   * @return its text, fragments resolved
   * @throws IllegalArgumentException if no file defines it
   */
  static String sql(String name) {
    return STATEMENTS.get(name);
  }

  /** Every statement, by name, fragments excluded. */
  static SqlStatements statements() {
    return STATEMENTS;
  }
}
