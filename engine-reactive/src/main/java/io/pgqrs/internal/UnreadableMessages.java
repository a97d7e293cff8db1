package io.pgqrs.internal;

import io.pgqrs.queue.Message;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Poison messages: a claimed message whose stored payload cannot be read back (see
 * {@link Json#parsePayload}) is dead-lettered with the reason as its error, instead of failing the
 * claim and blocking every message behind it. Every claim of the engine goes through here, so the
 * rule lives once, whatever the backend.
 */
final class UnreadableMessages {

  private static final Logger log = LoggerFactory.getLogger(UnreadableMessages.class);

  private UnreadableMessages() {}

  private static boolean unreadable(Message m) {
    return m.payload() instanceof Json.UnreadablePayload;
  }

  /**
   * The claim without its unreadable messages, once they are dead-lettered. Cold; a claim without
   * any is returned as it is, at no cost.
   *
   * @param driver the store
   * @param queue the queue claimed from, for the log
   * @param result the claim's result
   * @return the claim's result holding only readable messages; errors as the store's dead-lettering
   *     does (a message not dead-lettered comes back when its lease ends)
   */
  static Mono<StoreResults.Claimed> deadLetter(StoreDriver driver, String queue, StoreResults.Claimed result) {
    if (result.claimed().stream().noneMatch(UnreadableMessages::unreadable)) {
      return Mono.just(result);
    }
    List<Message> readable = new ArrayList<>();
    List<Message> poison = new ArrayList<>();
    for (Message m : result.claimed()) {
      (unreadable(m) ? poison : readable).add(m);
    }
    return Flux.fromIterable(poison)
        .concatMap(m -> {
          String reason = ((Json.UnreadablePayload) m.payload()).reason();
          log.warn("queue {}: dead-lettering message {}: {}", queue, m.id(), reason);
          return driver.deadLetter(new StoreParams.DeadLetter(
              new StoreParams.LeaseRef(m.id(), Objects.requireNonNull(m.leaseToken()), null), reason));
        })
        .then(Mono.fromSupplier(() -> new StoreResults.Claimed(readable, result.deadLettered(), result.untilNextVisible())));
  }

  /**
   * As {@link #deadLetter(StoreDriver, String, StoreResults.Claimed)}, for a workflow worker's
   * claim: a run begun for an unreadable message is not executed here either (the engine writes
   * every trigger payload itself, so only a row changed behind its back can be unreadable).
   *
   * @param driver the store
   * @param queue the queue claimed from
   * @param result the claim's result
   * @return the result holding only readable messages and their runs
   */
  static Mono<StoreResults.ClaimedRuns> deadLetter(StoreDriver driver, String queue, StoreResults.ClaimedRuns result) {
    return deadLetter(driver, queue, result.claimed()).map(claimed -> {
      if (claimed == result.claimed()) {
        return result;
      }
      Map<Long, StoreResults.RunBegun> begun = new HashMap<>();
      for (Message m : claimed.claimed()) {
        StoreResults.RunBegun run = result.begun().get(m.id());
        if (run != null) {
          begun.put(m.id(), run);
        }
      }
      return new StoreResults.ClaimedRuns(claimed, begun);
    });
  }
}
