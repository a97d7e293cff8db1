package io.pgqrs.queue;

import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Archived (acknowledged) messages. All methods are cold. */
public interface Archive {

  /**
   * Lists archived messages of a queue by id, starting after {@code afterId}.
   *
   * @param queue the queue name
   * @param afterId list ids greater than this (0 for the start)
   * @param limit the page size, at least 1
   * @return the page; {@link QueueNotFoundException} for an unknown queue
   */
  Flux<Message> list(String queue, long afterId, int limit);

  /**
   * Deletes archived messages of a queue archived more than {@code age} ago.
   *
   * @param queue the queue name
   * @param age a non-negative age; zero purges the whole archive of the queue
   * @return how many were deleted
   */
  Mono<Long> purgeOlderThan(String queue, Duration age);
}
