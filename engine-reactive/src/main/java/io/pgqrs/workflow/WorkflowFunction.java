package io.pgqrs.workflow;

import reactor.core.publisher.Mono;

/**
 * The body of a workflow: ordinary Reactor code whose side effects go through the steps of its
 * {@link RunContext}. It is called again on every replay (after a crash, a sleep, a retry or a
 * signal), so outside steps it must be deterministic: the same input and the same recorded step
 * results must lead to the same steps in the same order.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
@FunctionalInterface
public interface WorkflowFunction<I, O> {

  /**
   * Builds the run's pipeline. The returned {@code Mono} is subscribed once per replay; an empty
   * {@code Mono} is a successful run with a null output.
   *
   * @param ctx the run's context: steps, sleep, signals
   * @param input the run's input
   * @return the pipeline
   */
  Mono<O> apply(RunContext ctx, I input);
}
