/**
 * Micrometer meters for a store: {@link io.pgqrs.metrics.PgqrsMetrics} binds the queue and
 * workflow meters of one store to a {@code MeterRegistry}. Micrometer is an optional dependency of
 * the engine: add {@code io.micrometer:micrometer-core} to use this package; nothing else in the
 * engine needs it.
 */
@NullMarked
package io.pgqrs.metrics;

import org.jspecify.annotations.NullMarked;
