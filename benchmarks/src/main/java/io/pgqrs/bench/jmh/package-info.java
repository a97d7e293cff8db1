/**
 * JMH micro-benchmarks of the engine's hot in-process paths: payload serialization and
 * validation on enqueue, and the mapping of claimed rows to messages. They call the engine's own
 * package-private code through method handles ({@link io.pgqrs.bench.jmh.EngineInternals}), so
 * they measure what ships. Run them with {@code benchmarks/run jmh}.
 */
@NullMarked
package io.pgqrs.bench.jmh;

import org.jspecify.annotations.NullMarked;
