package io.pgqrs;

import org.jspecify.annotations.Nullable;

/**
 * A value could not be turned into JSON, or stored JSON could not be read as the expected type:
 * a workflow input, a step output, a signal value or a run output. Nothing was stored.
 */
public class SerializationFailedException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be converted, and to what
   * @param cause Jackson's error
   */
  public SerializationFailedException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
