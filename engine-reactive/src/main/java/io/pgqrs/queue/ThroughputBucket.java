package io.pgqrs.queue;

import java.time.Instant;

/**
 * How many messages of a queue were archived (acknowledged) in one interval, by the store's clock.
 *
 * @param start the interval's start, excluded
 * @param end the interval's end, included (the last interval's is the store's now)
 * @param archived messages archived in {@code (start, end]} that are still kept (retention may
 *     have purged older ones)
 */
public record ThroughputBucket(Instant start, Instant end, long archived) {}
