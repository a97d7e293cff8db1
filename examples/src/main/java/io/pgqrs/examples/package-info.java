/**
 * Runnable demos of the public API: {@link io.pgqrs.examples.QueueRoundTrip} (a queue round trip)
 * and {@link io.pgqrs.examples.WorkflowDemo} (a durable workflow with steps, a sleep and a signal).
 * Each takes an optional DSN and defaults to a SQLite file in the working directory; the README
 * shows how to run them. They block on purpose: they are programs, not library code.
 */
package io.pgqrs.examples;
