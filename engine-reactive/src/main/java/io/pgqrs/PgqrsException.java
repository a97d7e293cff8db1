package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception pgqrs signals, through a {@code Mono}/{@code Flux} error or thrown
 * directly by a builder.
 *
 * <p>There are exactly two branches: {@link PgqrsTransientException} (retrying the same operation
 * later may succeed: connection lost, database restarting, rate limit, serialization conflict) and
 * {@link PgqrsPermanentException} (retrying the same input fails again: bad input, unknown queue,
 * refused operation). Code that retries should test {@link #isTransient()}.
 */
public abstract sealed class PgqrsException extends RuntimeException
    permits PgqrsTransientException, PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  PgqrsException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether retrying the same operation later may succeed.
   *
   * @return {@code true} for the transient branch
   */
  public abstract boolean isTransient();
}
