/**
 * The SQLite store: the SQLite dialect of every store operation ({@code SqliteDriver}) on a JDBC
 * connection that only a dedicated writer thread touches ({@code JdbcExecutor}). Only the provider
 * is public, for {@link java.util.ServiceLoader}.
 */
@NullMarked
package io.pgqrs.sqlite;

import org.jspecify.annotations.NullMarked;
