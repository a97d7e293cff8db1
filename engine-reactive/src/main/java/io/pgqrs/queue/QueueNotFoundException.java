package io.pgqrs.queue;

import io.pgqrs.PgqrsPermanentException;

/**
 * The named queue does not exist.
 */
public class QueueNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String queue;

  /**
   * Creates the exception.
   *
   * @param queue the queue that was asked for
   * @param message the message
   */
  public QueueNotFoundException(String queue, String message) {
    super(message, null);
    this.queue = queue;
  }

  /**
   * The queue that was asked for.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }
}
