package io.pgqrs.exampleapp;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsTransientException;
import io.pgqrs.workflow.RunNotFoundException;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;

/**
 * Turns the orders API's errors into JSON answers of the form
 * {@code {"error": "invalid_order", "message": "...", "fields": {...}}}.
 */
@RestControllerAdvice
public class ApiErrors {

  private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

  /**
   * An error answer.
   *
   * @param error a stable code: {@code invalid_order}, {@code bad_request}, {@code not_found},
   *     {@code conflict}, {@code unavailable}
   * @param message what went wrong, for a person
   * @param fields for {@code invalid_order}, each bad field with its problem; else empty
   */
  public record ApiError(String error, String message, Map<String, String> fields) {}

  /**
   * A body that is JSON but not a valid order.
   *
   * @param e the error
   * @return 400 naming every bad field
   */
  @ExceptionHandler(InvalidOrderException.class)
  public ResponseEntity<ApiError> invalidOrder(InvalidOrderException e) {
    return ResponseEntity.badRequest()
        .body(new ApiError("invalid_order", "the order has invalid fields", e.fieldErrors()));
  }

  /**
   * A body that is not JSON or has a field of the wrong type, a missing body, or an id that is not
   * a number.
   *
   * @param e the error
   * @return 400
   */
  @ExceptionHandler(ServerWebInputException.class)
  public ResponseEntity<ApiError> badInput(ServerWebInputException e) {
    return ResponseEntity.badRequest().body(new ApiError("bad_request", describe(e), Map.of()));
  }

  /**
   * A value the engine refuses, such as an idempotency key that is too long.
   *
   * @param e the error
   * @return 400
   */
  @ExceptionHandler(InvalidArgumentException.class)
  public ResponseEntity<ApiError> invalidArgument(InvalidArgumentException e) {
    return ResponseEntity.badRequest().body(new ApiError("bad_request", e.getMessage(), Map.of()));
  }

  /**
   * An unknown order.
   *
   * @param e the error
   * @return 404
   */
  @ExceptionHandler({OrderNotFoundException.class, RunNotFoundException.class})
  public ResponseEntity<ApiError> notFound(RuntimeException e) {
    return ResponseEntity.status(HttpStatus.NOT_FOUND).body(new ApiError("not_found", e.getMessage(), Map.of()));
  }

  /**
   * An order that cannot be approved in its state.
   *
   * @param e the error
   * @return 409
   */
  @ExceptionHandler(OrderConflictException.class)
  public ResponseEntity<ApiError> conflict(OrderConflictException e) {
    return ResponseEntity.status(HttpStatus.CONFLICT).body(new ApiError("conflict", e.getMessage(), Map.of()));
  }

  /**
   * The store is unreachable or overloaded for a moment.
   *
   * @param e the error
   * @return 503, to be retried
   */
  @ExceptionHandler(PgqrsTransientException.class)
  public ResponseEntity<ApiError> unavailable(PgqrsTransientException e) {
    LOG.warn("store unavailable: {}", e.getMessage());
    return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
        .body(new ApiError("unavailable", "the order store is unavailable, try again shortly", Map.of()));
  }

  /**
   * Any other status Spring decided on (415 for a body that is not JSON, 405, ...).
   *
   * @param e the error
   * @return its status, with a JSON body
   */
  @ExceptionHandler(ResponseStatusException.class)
  public ResponseEntity<ApiError> status(ResponseStatusException e) {
    HttpStatus known = HttpStatus.resolve(e.getStatusCode().value());
    String code = known == null ? "error" : known.name().toLowerCase(java.util.Locale.ROOT);
    return ResponseEntity.status(e.getStatusCode()).body(new ApiError(code, describe(e), Map.of()));
  }

  /** The reason, followed by the innermost cause (the JSON parser's message names the position). */
  private static String describe(ResponseStatusException e) {
    String reason = e.getReason() == null ? e.getStatusCode().toString() : e.getReason();
    Throwable root = rootCause(e);
    String detail = root == e || root.getMessage() == null ? null : firstLine(root.getMessage());
    return detail == null ? reason : reason + ": " + detail;
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static @Nullable String firstLine(String message) {
    String line = message.lines().findFirst().orElse("").strip();
    return line.isEmpty() ? null : line;
  }
}
