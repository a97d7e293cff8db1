package io.pgqrs.queue;

import io.pgqrs.PgqrsPermanentException;

/**
 * Deleting a queue was refused because it still has live messages or registered workers; pass
 * {@code force} to delete it anyway. The counts say why.
 */
public class QueueNotEmptyException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final String queue;
  private final long liveMessages;
  private final long activeWorkers;

  /**
   * Creates the exception.
   *
   * @param queue the queue that was not deleted
   * @param liveMessages how many live (pending, leased or delayed) messages the queue holds
   * @param activeWorkers how many registered workers of the queue are not stopped
   * @param message the message
   */
  public QueueNotEmptyException(String queue, long liveMessages, long activeWorkers, String message) {
    super(message, null);
    this.queue = queue;
    this.liveMessages = liveMessages;
    this.activeWorkers = activeWorkers;
  }

  /**
   * The queue that was not deleted.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }

  /**
   * How many live (pending, leased or delayed) messages the queue holds.
   *
   * @return the liveMessages
   */
  public long liveMessages() {
    return liveMessages;
  }

  /**
   * How many registered workers of the queue are not stopped.
   *
   * @return the activeWorkers
   */
  public long activeWorkers() {
    return activeWorkers;
  }
}
