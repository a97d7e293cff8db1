package io.pgqrs.exampleapp;

/** The order cannot be approved in its current state; answered with 409, nothing changed. */
public final class OrderConflictException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param id the order
   * @param reason why it cannot be approved
   */
  public OrderConflictException(long id, String reason) {
    super("order " + id + " cannot be approved: " + reason);
  }
}
