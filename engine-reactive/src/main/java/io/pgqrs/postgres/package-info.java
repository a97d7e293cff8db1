/**
 * The PostgreSQL store: r2dbc-postgresql behind r2dbc-pool, every statement in
 * {@code PostgresSql}, versioned migrations under {@code io/pgqrs/postgres/migrations}. Only the
 * provider is public, for {@link java.util.ServiceLoader}.
 */
@NullMarked
package io.pgqrs.postgres;

import org.jspecify.annotations.NullMarked;
