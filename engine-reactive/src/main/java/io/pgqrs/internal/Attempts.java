package io.pgqrs.internal;

/**
 * The delivery-count rule, decided once. A message's {@code attempts} counts its deliveries; once it
 * reaches the queue's {@code max_attempts} the message has had its last chance: a handler failure
 * on that delivery dead-letters it instead of releasing it, and a claim that finds it live again
 * (its last holder crashed or let the lease lapse) dead-letters it instead of delivering it. The
 * claim statements of every backend apply this same comparison in SQL, where it must happen to be
 * atomic with the claim; the driver conformance suite proves they agree with this method at the
 * boundary ({@code attempts == max - 1} is delivered, {@code attempts == max} is not).
 */
final class Attempts {

  private Attempts() {}

  /**
   * Whether a delivery was the message's last.
   *
   * @param attempts deliveries so far, this one included
   * @param maxAttempts the queue's limit
   * @return true when no further delivery may happen
   */
  static boolean exhausted(int attempts, int maxAttempts) {
    return attempts >= maxAttempts;
  }
}
