package io.pgqrs.sqlite;

import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Statements of one unit of work against a SQLite-dialect database. Implementations run them in
 * order on the unit's connection or stream; every method is cold and non-blocking for the caller.
 */
interface SqlSession {

  /** Runs a statement that returns rows (SELECT, or a write with RETURNING). */
  Mono<List<SqlRow>> query(String sql, @Nullable Object... args);

  /** Runs a statement and returns how many rows it changed. */
  Mono<Long> update(String sql, @Nullable Object... args);

  /** Runs statements without parameters, one after the other (DDL of migrations). */
  Mono<Void> script(List<String> statements);
}
