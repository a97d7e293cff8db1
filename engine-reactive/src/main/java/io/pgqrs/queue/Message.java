package io.pgqrs.queue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A message as stored. Immutable snapshot: later changes in the store are not reflected.
 *
 * @param id the message id, unique across all queues of a schema
 * @param queue the queue name
 * @param payload the JSON object that was enqueued
 * @param state where the message is in its lifecycle
 * @param priority higher is claimed first; 0 by default
 * @param attempts how many times the message has been claimed
 * @param enqueuedAt when it was enqueued
 * @param visibleAt when it may next be claimed (for a leased message: when its lease expires)
 * @param leaseToken the token of the current or last lease, null if never leased or released
 * @param leaseOwner the worker id that holds (or last held) the lease, if the claim named one
 * @param dedupKey the deduplication key given at enqueue, if any
 * @param lastError the error recorded by the last release or dead-lettering, if any
 * @param archivedAt when it was archived, for archived messages
 * @param deadAt when it was dead-lettered, for dead messages
 * @param groupKey the group key given at enqueue ({@link NewMessage#withGroupKey(String)}), if any
 * @param headers the headers given at enqueue ({@link NewMessage#headers()}); empty for none, never
 *     null, unmodifiable
 */
public record Message(
    long id,
    String queue,
    JsonNode payload,
    MessageState state,
    int priority,
    int attempts,
    Instant enqueuedAt,
    Instant visibleAt,
    @Nullable UUID leaseToken,
    @Nullable Long leaseOwner,
    @Nullable String dedupKey,
    @Nullable String lastError,
    @Nullable Instant archivedAt,
    @Nullable Instant deadAt,
    @Nullable String groupKey,
    Map<String, String> headers) {

  /**
   * Keeps {@code headers} an unmodifiable map, empty when none were given: copied unless it is
   * already one of {@link Map#copyOf}'s (as the drivers' are), so a claim copies no headers twice.
   *
   * @throws NullPointerException if a header's name or value is null
   */
  public Message {
    headers = headers == null || headers.isEmpty() ? Map.of() : Map.copyOf(headers);
  }

  /**
   * A message without headers.
   *
   * @param id the message id
   * @param queue the queue name
   * @param payload the JSON object that was enqueued
   * @param state where the message is in its lifecycle
   * @param priority higher is claimed first
   * @param attempts how many times the message has been claimed
   * @param enqueuedAt when it was enqueued
   * @param visibleAt when it may next be claimed
   * @param leaseToken the token of the current or last lease, or null
   * @param leaseOwner the worker id that holds (or last held) the lease, or null
   * @param dedupKey the deduplication key, or null
   * @param lastError the last recorded error, or null
   * @param archivedAt when it was archived, or null
   * @param deadAt when it was dead-lettered, or null
   * @param groupKey the group key, or null
   */
  public Message(long id, String queue, JsonNode payload, MessageState state, int priority, int attempts,
      Instant enqueuedAt, Instant visibleAt, @Nullable UUID leaseToken, @Nullable Long leaseOwner,
      @Nullable String dedupKey, @Nullable String lastError, @Nullable Instant archivedAt,
      @Nullable Instant deadAt, @Nullable String groupKey) {
    this(id, queue, payload, state, priority, attempts, enqueuedAt, visibleAt, leaseToken, leaseOwner, dedupKey,
        lastError, archivedAt, deadAt, groupKey, Map.of());
  }

  /**
   * A message without a group key.
   *
   * @param id the message id
   * @param queue the queue name
   * @param payload the JSON object that was enqueued
   * @param state where the message is in its lifecycle
   * @param priority higher is claimed first
   * @param attempts how many times the message has been claimed
   * @param enqueuedAt when it was enqueued
   * @param visibleAt when it may next be claimed
   * @param leaseToken the token of the current or last lease, or null
   * @param leaseOwner the worker id that holds (or last held) the lease, or null
   * @param dedupKey the deduplication key, or null
   * @param lastError the last recorded error, or null
   * @param archivedAt when it was archived, or null
   * @param deadAt when it was dead-lettered, or null
   */
  public Message(long id, String queue, JsonNode payload, MessageState state, int priority, int attempts,
      Instant enqueuedAt, Instant visibleAt, @Nullable UUID leaseToken, @Nullable Long leaseOwner,
      @Nullable String dedupKey, @Nullable String lastError, @Nullable Instant archivedAt,
      @Nullable Instant deadAt) {
    this(id, queue, payload, state, priority, attempts, enqueuedAt, visibleAt, leaseToken, leaseOwner, dedupKey,
        lastError, archivedAt, deadAt, null, Map.of());
  }

  /**
   * The lease this message was claimed under, for passing to archive, delete, release or extend.
   *
   * @return the lease
   * @throws IllegalStateException if the message carries no lease token (it was not claimed)
   */
  public Lease lease() {
    UUID token = leaseToken;
    if (token == null) {
      throw new IllegalStateException("message " + id + " was not claimed: it carries no lease");
    }
    return new Lease(id, token, visibleAt);
  }

  /**
   * Whether the message is live and held under an unexpired lease at the given instant.
   *
   * @param now the instant to judge by (use the store's clock where it matters)
   * @return true if leased at {@code now}
   */
  public boolean isLeased(Instant now) {
    return state == MessageState.LIVE && leaseToken != null && visibleAt.isAfter(now);
  }
}
