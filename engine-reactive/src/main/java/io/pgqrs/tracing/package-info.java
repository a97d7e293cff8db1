/**
 * Tracing through Micrometer Observation: {@link io.pgqrs.tracing.PgqrsObservations} makes each
 * enqueue and each handler execution an observation, and carries the producer's trace context to
 * the consumer in the message's headers. Needs {@code io.micrometer:micrometer-observation} on the
 * class path (an optional dependency of the engine).
 */
@NullMarked
package io.pgqrs.tracing;

import org.jspecify.annotations.NullMarked;
