/**
 * The SQLite store: the SQLite dialect of every store operation ({@code SqliteDriver}) on a JDBC
 * connection that only a dedicated writer thread touches ({@code JdbcExecutor}), or over the Hrana
 * protocol for Turso ({@code HranaExecutor}). Every statement is in the resource files
 * {@code io/pgqrs/sqlite/sql/<table>.sql} ({@code SqliteSql}), and the time comes from the
 * database's clock, read in SQL. Only the providers are public, for {@link java.util.ServiceLoader}.
 */
@NullMarked
package io.pgqrs.sqlite;

import org.jspecify.annotations.NullMarked;
