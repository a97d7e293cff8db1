package io.pgqrs.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * A snapshot of one value a run set with {@link RunContext#setEvent}.
 *
 * @param runId the run
 * @param seq the value's sequence number: unique in the store, growing in the order the run's
 *     values were set
 * @param key the event's key
 * @param value the value as stored
 * @param createdAt when it was set, by the store's clock
 */
public record EventInfo(long runId, long seq, String key, JsonNode value, Instant createdAt) {}
