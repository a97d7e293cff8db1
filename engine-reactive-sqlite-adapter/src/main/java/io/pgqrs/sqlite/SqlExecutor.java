package io.pgqrs.sqlite;

import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * Serialises units of work on a SQLite-dialect database that has one writer. A unit's value is
 * emitted only after it committed; an error or a cancellation rolls it back.
 */
interface SqlExecutor {

  /** Runs a unit of work in one write transaction. */
  <T> Mono<T> transaction(String operation, Function<SqlSession, Mono<T>> work);

  /** Runs a unit of work of single statements, each atomic on its own (reads, single writes). */
  <T> Mono<T> statements(String operation, Function<SqlSession, Mono<T>> work);

  /** Closes the underlying connection; idempotent. */
  Mono<Void> close();
}
