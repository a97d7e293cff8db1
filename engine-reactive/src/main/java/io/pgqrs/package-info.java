/**
 * The entry point and the cross-cutting types of pgqrs. {@link io.pgqrs.Pgqrs#connect(String)}
 * opens a {@link io.pgqrs.Store} from a DSN or a {@link io.pgqrs.PgqrsConfig}; the store's facets
 * live in the packages named for their concern:
 *
 * <ul>
 *   <li>{@link io.pgqrs.queue}: queues, producers, messages, consumers, deliveries, dead letters,
 *       the archive, payload validation and rate limits;
 *   <li>{@link io.pgqrs.worker}: the persisted identities of consuming processes and their health;
 *   <li>{@link io.pgqrs.workflow}: durable workflows, their runs, steps and handles;
 *   <li>{@link io.pgqrs.admin}: schema install and verify, system metrics and maintenance.
 * </ul>
 *
 * <p>This package also holds what every concern shares: {@link io.pgqrs.RetryPolicy} and
 * {@link io.pgqrs.RetryLaterException} (used by consumers and workflow steps alike), the
 * {@link io.pgqrs.Capabilities} of a backend, and the exception root {@link io.pgqrs.PgqrsException}
 * with its {@link io.pgqrs.PgqrsTransientException transient} and
 * {@link io.pgqrs.PgqrsPermanentException permanent} branches. Every I/O method of the API returns
 * a cold {@code Mono} or {@code Flux}. Packages named {@code internal} or {@code spi} are not API.
 */
@NullMarked
package io.pgqrs;

import org.jspecify.annotations.NullMarked;
