package io.pgqrs.exampleapp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The body of {@code POST /orders} is not a valid order; answered with 400 and the bad fields. */
public final class InvalidOrderException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final Map<String, String> fieldErrors;

  /**
   * Creates the exception.
   *
   * @param fieldErrors each bad field with what is wrong with it, in the body's order
   */
  public InvalidOrderException(Map<String, String> fieldErrors) {
    super("invalid order: " + fieldErrors);
    this.fieldErrors = Collections.unmodifiableMap(new LinkedHashMap<>(fieldErrors));
  }

  /**
   * The bad fields.
   *
   * @return each field's problem
   */
  public Map<String, String> fieldErrors() {
    return fieldErrors;
  }
}
