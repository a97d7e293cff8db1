/**
 * The scenario runner: {@code drain}, {@code latency}, {@code enqueue}, {@code workflow} and
 * {@code workflow-latency} measured on one backend, next to the hardware ceiling (the engine's own
 * claim and archive statements run with plain JDBC) and the Java peers a user would otherwise
 * pick. Start it with {@code benchmarks/run SCENARIO [options]} or
 * {@link io.pgqrs.bench.BenchMain}. Every measured cell is one JSON object on stdout and one line
 * of a JSONL file in the results folder; progress and logs go to stderr.
 */
@NullMarked
package io.pgqrs.bench;

import org.jspecify.annotations.NullMarked;
