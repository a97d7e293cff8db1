/**
 * The PostgreSQL store: r2dbc-postgresql behind r2dbc-pool, every statement in the SQL files under
 * {@code io/pgqrs/postgres/sql} (one per table, read through {@code PostgresStatements}), versioned
 * migrations under {@code io/pgqrs/postgres/migrations}. Only the provider is API, public for
 * {@link java.util.ServiceLoader}; {@code PostgresStatements} is public for the benchmarks and not
 * API.
 */
@NullMarked
package io.pgqrs.postgres;

import org.jspecify.annotations.NullMarked;
