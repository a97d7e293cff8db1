package io.pgqrs.bench;

import org.jspecify.annotations.Nullable;

/**
 * Where a {@link WorkflowSubject} keeps its state, a fresh schema of its own on the run's
 * database, and how many connections it may open.
 *
 * @param backend {@code postgres}, {@code sqlite} or {@code turso}
 * @param pgqrsDsn the pgqrs DSN of the executing store, with the fresh schema, its pool size and
 *     application name (PostgreSQL) or the run's file (SQLite)
 * @param pgqrsTriggerDsn the pgqrs DSN of the triggering store in the cross-engine mode, the same
 *     schema with its own pool size and application name; equal to {@code pgqrsDsn} elsewhere
 * @param jdbcUrl the JDBC URL of the PostgreSQL database, null on other backends
 * @param user the PostgreSQL user, null on other backends
 * @param password the PostgreSQL password, null when the server trusts the user
 * @param schema the fresh schema for this subject (empty on SQLite)
 * @param poolSize the connection pool size of the executing side (pgqrs: the pool of
 *     {@code pgqrsDsn}; DBOS: its Hikari pool)
 * @param triggerPoolSize the pool size of {@code pgqrsTriggerDsn}
 * @param applicationName the PostgreSQL {@code application_name} prefix of the subject's
 *     connections, so that the scenario can tell them from other sessions
 */
public record WorkflowTarget(
    String backend,
    String pgqrsDsn,
    String pgqrsTriggerDsn,
    @Nullable String jdbcUrl,
    @Nullable String user,
    @Nullable String password,
    String schema,
    int poolSize,
    int triggerPoolSize,
    String applicationName) {}
