/**
 * Durable workflows: {@link io.pgqrs.workflow.Workflows#define} builds an immutable
 * {@link io.pgqrs.workflow.WorkflowDefinition} whose body is a Reactor pipeline of steps memoized
 * in the store through its {@link io.pgqrs.workflow.RunContext}; {@link io.pgqrs.workflow.Runs}
 * registers it as a {@link io.pgqrs.workflow.Workflow} (trigger, run handles, workers) and
 * inspects and controls runs. Each workflow runs on a queue of {@link io.pgqrs.queue} of the same
 * name (a versioned definition on {@code name@version}); the worker holding a run's message lease
 * holds the run, and its waits (sleep, retry backoff, signals, pause) are that message's visibility.
 * {@link io.pgqrs.workflow.RunExecution} is the low-level, step-by-step API the pipeline runtime is
 * built on. The exceptions here are the workflow branches of {@link io.pgqrs.PgqrsException}.
 */
@NullMarked
package io.pgqrs.workflow;

import org.jspecify.annotations.NullMarked;
