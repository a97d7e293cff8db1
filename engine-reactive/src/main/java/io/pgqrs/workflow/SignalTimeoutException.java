package io.pgqrs.workflow;

import io.pgqrs.PgqrsPermanentException;

/**
 * {@link RunContext#awaitSignal} waited its whole timeout and no signal of that name arrived. The
 * timeout is recorded, so a replay fails the same way.
 */
public class SignalTimeoutException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String signal;

  /**
   * Creates the exception.
   *
   * @param signal the signal name waited for
   * @param message the message
   */
  public SignalTimeoutException(String signal, String message) {
    super(message, null);
    this.signal = signal;
  }

  /**
   * The signal name waited for.
   *
   * @return the name
   */
  public String signal() {
    return signal;
  }
}
