package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryLaterException;
import io.pgqrs.RetryPolicy;
import java.util.Objects;

/**
 * How often a step is executed before it fails for good, and how long to wait between
 * executions. Immutable; keep one as a template. A failed execution with attempts left is recorded
 * as a retry due after the policy's delay (or a {@link RetryLaterException}'s); the run's message
 * becomes visible again only then, so no worker spins while it waits.
 *
 * @param maxAttempts executions before the step fails for good, 1 to 1,000
 * @param policy the delay between executions and which errors are retryable
 */
public record StepOptions(int maxAttempts, RetryPolicy policy) {

  /**
   * Checks the values.
   *
   * @throws InvalidArgumentException if maxAttempts is out of range
   */
  public StepOptions {
    Objects.requireNonNull(policy, "policy");
    if (maxAttempts < 1 || maxAttempts > 1_000) {
      throw new InvalidArgumentException("maxAttempts", "maxAttempts must be 1 to 1000, got " + maxAttempts);
    }
  }

  /**
   * The default: 3 executions, {@link RetryPolicy#defaults()} between them.
   *
   * @return the default options
   */
  public static StepOptions defaults() {
    return new StepOptions(3, RetryPolicy.defaults());
  }

  /**
   * Executed once; any error fails the step for good.
   *
   * @return options without retries
   */
  public static StepOptions noRetries() {
    return new StepOptions(1, RetryPolicy.defaults());
  }

  /**
   * These options with another number of executions.
   *
   * @param value 1 to 1,000
   * @return new options
   */
  public StepOptions withMaxAttempts(int value) {
    return new StepOptions(value, policy);
  }

  /**
   * These options with another policy.
   *
   * @param value the policy
   * @return new options
   */
  public StepOptions withPolicy(RetryPolicy value) {
    return new StepOptions(maxAttempts, value);
  }
}
