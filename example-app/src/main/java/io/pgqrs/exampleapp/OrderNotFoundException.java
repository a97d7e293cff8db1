package io.pgqrs.exampleapp;

/** No order (checkout run) has the id asked for; answered with 404. */
public final class OrderNotFoundException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param id the id asked for
   */
  public OrderNotFoundException(long id) {
    super("order " + id + " does not exist");
  }
}
