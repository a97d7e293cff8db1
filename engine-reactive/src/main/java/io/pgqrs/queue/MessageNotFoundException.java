package io.pgqrs.queue;

import io.pgqrs.PgqrsPermanentException;

/**
 * The message does not exist (it may have been deleted or purged).
 */
public class MessageNotFoundException extends PgqrsPermanentException {

  private static final long serialVersionUID = 1L;

  private final long messageId;

  /**
   * Creates the exception.
   *
   * @param messageId the message id that was asked for
   * @param message the message
   */
  public MessageNotFoundException(long messageId, String message) {
    super(message, null);
    this.messageId = messageId;
  }

  /**
   * The message id that was asked for.
   *
   * @return the messageId
   */
  public long messageId() {
    return messageId;
  }
}
