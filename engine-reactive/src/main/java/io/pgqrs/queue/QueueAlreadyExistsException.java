package io.pgqrs.queue;

import io.pgqrs.PgqrsPermanentException;

/**
 * A queue with this name exists already.
 */
public class QueueAlreadyExistsException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String queue;

  /**
   * Creates the exception.
   *
   * @param queue the queue that exists already
   * @param message the message
   */
  public QueueAlreadyExistsException(String queue, String message) {
    super(message, null);
    this.queue = queue;
  }

  /**
   * The queue that exists already.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }
}
