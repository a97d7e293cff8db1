/**
 * The public API of pgqrs: {@link io.pgqrs.Pgqrs#connect(String)} returns a {@link io.pgqrs.Store}
 * whose facets manage queues, enqueue, claim and acknowledge messages, dead letters, archives,
 * workers and metrics. Every I/O method returns a cold {@code Mono} or {@code Flux}; errors are
 * {@link io.pgqrs.PgqrsException}s, split into transient and permanent branches.
 */
@NullMarked
package io.pgqrs;

import org.jspecify.annotations.NullMarked;
