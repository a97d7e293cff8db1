package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.internal.Names;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable workflow definition: name, input and output types, body and options. Made by
 * {@link Workflows#define}; every {@code withX} returns a new definition.
 *
 * <p>Defaults: steps use {@link StepOptions#defaults()}; the workflow itself (an error raised by
 * the body outside any step) is executed at most 3 times with {@link RetryPolicy#defaults()}
 * between; no run timeout; step leases last 30 s and are extended while a step runs.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public final class WorkflowDefinition<I, O> {

  private final String name;
  private final Class<I> inputType;
  private final Class<O> outputType;
  private final WorkflowFunction<I, O> body;
  private final StepOptions stepOptions;
  private final StepOptions workflowRetries;
  private final @Nullable Duration timeout;
  private final Duration stepLease;

  private WorkflowDefinition(String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body,
      StepOptions stepOptions, StepOptions workflowRetries, @Nullable Duration timeout, Duration stepLease) {
    this.name = name;
    this.inputType = inputType;
    this.outputType = outputType;
    this.body = body;
    this.stepOptions = stepOptions;
    this.workflowRetries = workflowRetries;
    this.timeout = timeout;
    this.stepLease = stepLease;
  }

  static <I, O> WorkflowDefinition<I, O> create(
      String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body) {
    Names.checkQueue(name);
    return new WorkflowDefinition<>(name, Objects.requireNonNull(inputType, "inputType"),
        Objects.requireNonNull(outputType, "outputType"), Objects.requireNonNull(body, "body"),
        StepOptions.defaults(), StepOptions.defaults(), null, Duration.ofSeconds(30));
  }

  /**
   * The default retry options of this workflow's steps; a step may override them.
   *
   * @param options the options
   * @return a new definition
   */
  public WorkflowDefinition<I, O> withStepOptions(StepOptions options) {
    return new WorkflowDefinition<>(name, inputType, outputType, body, Objects.requireNonNull(options, "options"),
        workflowRetries, timeout, stepLease);
  }

  /**
   * How often the body is executed again after it fails outside any step (a step's final failure
   * is not retried here: the step already used its own attempts).
   *
   * @param options the options
   * @return a new definition
   */
  public WorkflowDefinition<I, O> withWorkflowRetries(StepOptions options) {
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions,
        Objects.requireNonNull(options, "options"), timeout, stepLease);
  }

  /**
   * A run timeout: each run gets the deadline {@code trigger time + timeout}, recorded with it.
   * Past it the run fails with ERROR at its next step boundary, the step in flight is cancelled,
   * and a sleeping or waiting run wakes to fail.
   *
   * @param value a positive duration, or null for none
   * @return a new definition
   * @throws InvalidArgumentException if not positive
   */
  public WorkflowDefinition<I, O> withTimeout(@Nullable Duration value) {
    if (value != null && (value.isNegative() || value.isZero())) {
      throw new InvalidArgumentException("timeout", "timeout must be positive, got " + value);
    }
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions, workflowRetries, value, stepLease);
  }

  /**
   * How long a worker's claim on a step lasts without renewal; it is renewed every third of it
   * while the step runs, so a crashed worker's step is taken over within this time.
   *
   * @param value 1 s to 1 hour
   * @return a new definition
   * @throws InvalidArgumentException if out of range
   */
  public WorkflowDefinition<I, O> withStepLease(Duration value) {
    Objects.requireNonNull(value, "stepLease");
    if (value.compareTo(Duration.ofSeconds(1)) < 0 || value.compareTo(Duration.ofHours(1)) > 0) {
      throw new InvalidArgumentException("stepLease", "stepLease must be 1s to 1h, got " + value);
    }
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions, workflowRetries, timeout, value);
  }

  /**
   * The name, also the queue's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The input class.
   *
   * @return the input type
   */
  public Class<I> inputType() {
    return inputType;
  }

  /**
   * The output class.
   *
   * @return the output type
   */
  public Class<O> outputType() {
    return outputType;
  }

  /**
   * The body.
   *
   * @return the body
   */
  public WorkflowFunction<I, O> body() {
    return body;
  }

  /**
   * The steps' default retry options.
   *
   * @return the options
   */
  public StepOptions stepOptions() {
    return stepOptions;
  }

  /**
   * The body's own retry options.
   *
   * @return the options
   */
  public StepOptions workflowRetries() {
    return workflowRetries;
  }

  /**
   * The run timeout.
   *
   * @return the timeout, or null for none
   */
  public @Nullable Duration timeout() {
    return timeout;
  }

  /**
   * The step lease.
   *
   * @return the lease
   */
  public Duration stepLease() {
    return stepLease;
  }

  @Override
  public String toString() {
    return "WorkflowDefinition[" + name + ", " + inputType.getSimpleName() + " -> " + outputType.getSimpleName()
        + ", steps=" + stepOptions + ", timeout=" + timeout + "]";
  }
}
