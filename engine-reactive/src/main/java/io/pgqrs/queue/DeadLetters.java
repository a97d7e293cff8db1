package io.pgqrs.queue;

import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Dead-lettered messages of a queue. All methods are cold. */
public interface DeadLetters {

  /**
   * Lists dead messages by id, starting after {@code afterId}.
   *
   * @param queue the queue name
   * @param afterId list ids greater than this (0 for the start)
   * @param limit the page size, at least 1
   * @return the page; {@link QueueNotFoundException} for an unknown queue
   */
  Flux<Message> list(String queue, long afterId, int limit);

  /**
   * Moves the given dead messages back to live, claimable at once, with attempts reset to 0.
   * Ids that are not dead messages of this queue are skipped.
   *
   * @param queue the queue name
   * @param ids the messages to replay
   * @return how many were replayed
   */
  Mono<Long> replay(String queue, List<Long> ids);

  /**
   * Moves every dead message of the queue back to live, like {@link #replay(String, List)}.
   *
   * @param queue the queue name
   * @return how many were replayed
   */
  Mono<Long> replayAll(String queue);

  /**
   * Deletes every dead message of the queue.
   *
   * @param queue the queue name
   * @return how many were deleted
   */
  Mono<Long> purge(String queue);
}
