package io.pgqrs.bench;

import org.jspecify.annotations.Nullable;

/**
 * Where a {@link WorkflowSubject} keeps its state: a fresh schema of its own on the run's
 * database.
 *
 * @param backend {@code postgres}, {@code sqlite} or {@code turso}
 * @param pgqrsDsn the pgqrs DSN, with the fresh schema (PostgreSQL) or the run's file (SQLite)
 * @param jdbcUrl the JDBC URL of the PostgreSQL database, null on other backends
 * @param user the PostgreSQL user, null on other backends
 * @param password the PostgreSQL password, null when the server trusts the user
 * @param schema the fresh schema for this subject (empty on SQLite)
 */
public record WorkflowTarget(
    String backend,
    String pgqrsDsn,
    @Nullable String jdbcUrl,
    @Nullable String user,
    @Nullable String password,
    String schema) {}
