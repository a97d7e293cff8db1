package io.pgqrs;

/**
 * What a backend can do. Behaviours a backend lacks are refused, never emulated silently.
 *
 * @param backend a short backend name: {@code postgres}, {@code sqlite} or {@code turso}
 * @param listenNotify whether enqueues wake consumers in other processes through notifications
 * @param skipLocked whether concurrent claims skip each other's rows instead of serializing
 * @param singleWriter whether all writes go through one writer (SQLite)
 * @param transactionalSteps whether a workflow step can share the engine's transaction
 * @param transactionalEnqueue whether enqueues and triggers can run in the caller's own transaction
 *     ({@link io.pgqrs.queue.Producer#inTransaction}, {@link io.pgqrs.workflow.Workflow#inTransaction})
 */
public record Capabilities(
    String backend, boolean listenNotify, boolean skipLocked, boolean singleWriter, boolean transactionalSteps,
    boolean transactionalEnqueue) {}
