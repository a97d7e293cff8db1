package io.pgqrs;

/**
 * An invalid argument to an operation: a negative delay, a batch size below one, an invalid queue
 * name, an empty batch. {@link #argument()} names the argument.
 */
public class InvalidArgumentException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String argument;

  /**
   * Creates the exception.
   *
   * @param argument the name of the invalid argument
   * @param message the message
   */
  public InvalidArgumentException(String argument, String message) {
    super(message, null);
    this.argument = argument;
  }

  /**
   * The name of the invalid argument.
   *
   * @return the argument
   */
  public String argument() {
    return argument;
  }
}
