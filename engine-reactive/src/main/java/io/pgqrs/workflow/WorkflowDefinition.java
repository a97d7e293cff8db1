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
 * between; no run timeout; the step lease setting is 30 s (kept for compatibility: the run is held by its worker's message lease).
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
  private final @Nullable String version;
  private final @Nullable Declared schedule;

  /** The schedule {@link #withSchedule} declares: the input is checked against the input type there. */
  private record Declared(String cron, java.time.ZoneId zone, Object input) {}

  private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("[A-Za-z0-9_.\\-]{1,32}");

  private WorkflowDefinition(String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body,
      StepOptions stepOptions, StepOptions workflowRetries, @Nullable Duration timeout, Duration stepLease,
      @Nullable String version, @Nullable Declared schedule) {
    this.name = name;
    this.inputType = inputType;
    this.outputType = outputType;
    this.body = body;
    this.stepOptions = stepOptions;
    this.workflowRetries = workflowRetries;
    this.timeout = timeout;
    this.stepLease = stepLease;
    this.version = version;
    this.schedule = schedule;
  }

  static <I, O> WorkflowDefinition<I, O> create(
      String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body) {
    Names.checkQueue(name);
    return new WorkflowDefinition<>(name, Objects.requireNonNull(inputType, "inputType"),
        Objects.requireNonNull(outputType, "outputType"), Objects.requireNonNull(body, "body"),
        StepOptions.defaults(), StepOptions.defaults(), null, Duration.ofSeconds(30), null, null);
  }

  /**
   * The default retry options of this workflow's steps; a step may override them.
   *
   * @param options the options
   * @return a new definition
   */
  public WorkflowDefinition<I, O> withStepOptions(StepOptions options) {
    return new WorkflowDefinition<>(name, inputType, outputType, body, Objects.requireNonNull(options, "options"),
        workflowRetries, timeout, stepLease, version, schedule);
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
        Objects.requireNonNull(options, "options"), timeout, stepLease, version, schedule);
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
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions, workflowRetries, value, stepLease, version,
        schedule);
  }

  /**
   * The version of this definition's code. Each run records the version it was triggered on, and
   * only workers of that version execute it: runs of another version wait (visible in run
   * listings through {@link RunInfo#version()}, and as the depth of the version's queue,
   * {@code name@version}) until a worker of their version takes them. Deploy a changed body under
   * a new version, keep workers of the old one until its runs have finished, or carry both paths
   * in one body with {@link RunContext#patched(String)}.
   *
   * @param value 1 to 32 letters, digits, {@code _}, {@code .} or {@code -}; null for an
   *     unversioned definition (runs on the workflow's own queue)
   * @return a new definition
   * @throws InvalidArgumentException if malformed
   */
  public WorkflowDefinition<I, O> withVersion(@Nullable String value) {
    if (value != null && !VERSION.matcher(value).matches()) {
      throw new InvalidArgumentException("version", "a version must be 1 to 32 letters, digits, '_', '.' or '-', got '"
          + value + "'");
    }
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions, workflowRetries, timeout, stepLease,
        value, schedule);
  }

  /**
   * Declares a cron schedule of this workflow, in UTC (see {@link #withSchedule(String, java.time.ZoneId, Object)}).
   *
   * @param cron 5 fields (Unix cron), or 6 with seconds first
   * @param input the input of every scheduled run
   * @return a new definition
   * @throws InvalidArgumentException naming {@code cron} or {@code input} if invalid
   */
  public WorkflowDefinition<I, O> withSchedule(String cron, I input) {
    return withSchedule(cron, java.time.ZoneOffset.UTC, input);
  }

  /**
   * Declares a cron schedule of this workflow: {@link Runs#register} creates it, named after the
   * workflow, or updates it to this definition (cron, zone, input, version, timeout) if it exists,
   * keeping its paused flag and, unless the cron or zone changed, its next tick; engines
   * registering the same definition at once make one schedule. Removing the declaration later does
   * not delete the schedule: use {@link io.pgqrs.schedule.Schedules#delete}. The schedule is
   * checked here; the input is serialized at register.
   *
   * @param cron 5 fields (Unix cron), or 6 with seconds first (see {@link io.pgqrs.schedule.NewSchedule})
   * @param zone the zone the expression is read in
   * @param input the input of every scheduled run
   * @return a new definition
   * @throws InvalidArgumentException naming {@code cron} or {@code input} if invalid
   */
  public WorkflowDefinition<I, O> withSchedule(String cron, java.time.ZoneId zone, I input) {
    Declared declared = new Declared(Objects.requireNonNull(cron, "cron"), Objects.requireNonNull(zone, "zone"),
        Objects.requireNonNull(input, "input"));
    WorkflowDefinition<I, O> next = new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions,
        workflowRetries, timeout, stepLease, version, declared);
    next.schedule();
    return next;
  }

  /**
   * The schedule this definition declares (see {@link #withSchedule}), as the description
   * {@link io.pgqrs.schedule.Schedules#create} takes: named after the workflow, with this
   * definition's version and timeout.
   *
   * @return the schedule, or null if none is declared
   * @throws InvalidArgumentException if the declared input is not of the input type
   */
  public io.pgqrs.schedule.@Nullable NewSchedule schedule() {
    Declared d = schedule;
    if (d == null) {
      return null;
    }
    return io.pgqrs.schedule.NewSchedule.workflow(name, d.cron(), this, inputType.cast(checkedInput(d.input())))
        .withZone(d.zone());
  }

  private Object checkedInput(Object input) {
    if (!inputType.isInstance(input)) {
      throw new InvalidArgumentException("input", "the input of workflow '" + name + "' must be a "
          + inputType.getName() + ", got " + input.getClass().getName());
    }
    return input;
  }

  /**
   * The version of this definition's code (see {@link #withVersion}).
   *
   * @return the version, or null for an unversioned definition
   */
  public @Nullable String version() {
    return version;
  }

  /**
   * The queue that carries this definition's runs: the workflow's own for an unversioned
   * definition, else {@code name@version}.
   *
   * @return the queue name
   */
  public String queue() {
    return queueOf(name, version);
  }

  /**
   * The queue that carries the runs of workflow {@code name} at {@code version}: the workflow's
   * own for no version, else {@code name@version}.
   *
   * @param name the workflow's name
   * @param version the version, or null
   * @return the queue name
   */
  public static String queueOf(String name, @Nullable String version) {
    return version == null ? name : name + "@" + version;
  }

  /**
   * How long a worker's claim on a step lasts without renewal. Since the run-lease protocol, a step
   * has no lease of its own: the run is held by its worker's message lease (see
   * {@link WorkflowWorker.Builder#lease(Duration)}), which is what a crashed worker's runs are taken
   * over after. The value is kept, validated and reported for compatibility.
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
    return new WorkflowDefinition<>(name, inputType, outputType, body, stepOptions, workflowRetries, timeout, value, version,
        schedule);
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
