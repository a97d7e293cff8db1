package io.pgqrs.queue;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Proof of holding one message: its id and the token issued by the claim that leased it. Every
 * lease operation (archive, delete, release, extend, dead-letter) is fenced by the token, so a
 * holder whose lease expired and was re-issued to another consumer changes nothing.
 *
 * @param messageId the leased message
 * @param token the token of this lease; a new claim issues a new token
 * @param expiresAt when the lease ends unless extended, as seen by the store's clock
 */
public record Lease(long messageId, UUID token, Instant expiresAt) {

  /**
   * Validates the components.
   *
   * @throws NullPointerException if {@code token} or {@code expiresAt} is null
   */
  public Lease {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }
}
