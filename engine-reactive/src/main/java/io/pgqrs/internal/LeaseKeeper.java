package io.pgqrs.internal;

import io.pgqrs.queue.Lease;
import io.pgqrs.spi.StoreParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Keeps every lease an engine's consumer sessions hold, with one store statement per tick for the
 * whole engine (chunked at {@link #MAX_PER_STATEMENT} leases) instead of one per held message.
 *
 * <p>Sessions {@link #register} once their worker is registered and {@link #unregister} when they
 * finish; the keeper reads their held deliveries at each tick. It ticks at the smallest third of
 * a lease among the registered sessions, starts with the first registration, pauses when none is
 * left and ends for good with {@link #stop}. Each delivery is extended by its own session's lease,
 * fenced by its token; one whose lease the store no longer holds is marked lost. A tick that
 * fails is logged and the next tick tries again. Every timer runs on the engine's timers.
 */
final class LeaseKeeper {

  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);
  /** Leases per statement: bounds a statement's arrays (or JSON) and its row locks. */
  static final int MAX_PER_STATEMENT = 1000;

  private final Engine engine;
  private final Set<ConsumerSession> sessions = ConcurrentHashMap.newKeySet();
  /** Guards the timer state below. */
  private final Object lock = new Object();
  private @Nullable Disposable timer;
  private long timerDueNanos;
  /** Bumped by each arming, so a timer replaced while it fired does nothing. */
  private long generation;
  private @Nullable Disposable tickInFlight;
  private boolean ticking;
  private boolean stopped;

  LeaseKeeper(Engine engine) {
    this.engine = engine;
  }

  /**
   * Keeps the leases of a session's deliveries from now on; its first tick comes at most a third
   * of its lease from now. Ignored once the keeper is stopped.
   */
  void register(ConsumerSession session) {
    synchronized (lock) {
      if (stopped) {
        return;
      }
      sessions.add(session);
      if (!ticking) {
        armWithin(tickOf(session));
      }
    }
  }

  /** Stops keeping a session's leases; the keeper pauses once no session is left. */
  void unregister(ConsumerSession session) {
    sessions.remove(session);
  }

  /**
   * Stops the keeper for good: no tick starts from now on, and one in flight is cancelled (the
   * engine stops its sessions before, so nothing is left to keep). Idempotent.
   */
  void stop() {
    Disposable pending;
    Disposable inFlight;
    synchronized (lock) {
      stopped = true;
      generation++;
      pending = timer;
      inFlight = tickInFlight;
      timer = null;
      tickInFlight = null;
    }
    if (pending != null) {
      pending.dispose();
    }
    if (inFlight != null) {
      inFlight.dispose();
    }
  }

  private static Duration tickOf(ConsumerSession session) {
    return session.settings().lease().dividedBy(3);
  }

  /** The smallest tick among the registered sessions, or null when none is registered. */
  private @Nullable Duration smallestTick() {
    Duration smallest = null;
    for (ConsumerSession s : sessions) {
      Duration tick = tickOf(s);
      if (smallest == null || tick.compareTo(smallest) < 0) {
        smallest = tick;
      }
    }
    return smallest;
  }

  /** Arms the timer to fire within {@code delay}, unless it already fires sooner. Under {@link #lock}. */
  private void armWithin(Duration delay) {
    long due = engine.timers().now(TimeUnit.NANOSECONDS) + delay.toNanos();
    Disposable armed = timer;
    if (armed != null && timerDueNanos <= due) {
      return;
    }
    if (armed != null) {
      armed.dispose();
    }
    long armedAs = ++generation;
    timerDueNanos = due;
    timer = Mono.delay(delay, engine.timers()).subscribe(t -> tick(armedAs));
  }

  private void tick(long armedAs) {
    Duration next;
    synchronized (lock) {
      if (stopped || armedAs != generation) {
        return;
      }
      timer = null;
      next = smallestTick();
      if (next == null) {
        return; // paused: the next registration arms the timer again
      }
      ticking = true;
    }
    Disposable inFlight = extendAll(next).doFinally(signal -> ticked()).subscribe();
    boolean cancel;
    synchronized (lock) {
      cancel = stopped;
      if (ticking && !stopped) {
        tickInFlight = inFlight;
      }
    }
    if (cancel) {
      inFlight.dispose();
    }
  }

  private void ticked() {
    synchronized (lock) {
      ticking = false;
      tickInFlight = null;
      if (stopped) {
        return;
      }
      Duration next = smallestTick();
      if (next != null) {
        armWithin(next);
      }
    }
  }

  /** A held delivery due for extension, with the lease it is fenced by and its session's lease length. */
  private record Due(DefaultDelivery delivery, Lease lease, Duration duration, String queue) {}

  /**
   * Extends every lease that would otherwise have less than two thirds of its length left at the
   * next tick ({@code next} from now): with one lease length that is every held lease at every
   * tick, as a session with its own timer did; a session with a longer lease than the tick skips
   * its fresh leases and is never extended later than its own timer would have. Cold; never errors.
   */
  private Mono<Void> extendAll(Duration next) {
    return Mono.defer(() -> {
      long atNextTick = engine.timers().now(TimeUnit.NANOSECONDS) + next.toNanos();
      List<Due> due = new ArrayList<>();
      for (ConsumerSession session : sessions) {
        Duration duration = session.settings().lease();
        long keepAbove = duration.toNanos() * 2 / 3;
        for (DefaultDelivery d : session.held()) {
          if (!d.settled() && !d.leaseLost() && d.leaseEndsNanos() - atNextTick <= keepAbove) {
            due.add(new Due(d, d.lease(), duration, session.settings().queue()));
          }
        }
      }
      return Flux.fromIterable(due)
          .buffer(MAX_PER_STATEMENT)
          .concatMap(this::extendChunk)
          .then();
    });
  }

  /** One statement for a chunk of leases; what it does not return is lost. Cold; never errors. */
  private Mono<Void> extendChunk(List<Due> chunk) {
    List<StoreParams.LeaseExtension> extensions = chunk.stream()
        .map(d -> new StoreParams.LeaseExtension(d.lease().messageId(), d.lease().token(), d.duration()))
        .toList();
    return engine.driver().extendMany(new StoreParams.ExtendMany(extensions, null))
        .doOnNext(extended -> {
          Map<UUID, Lease> byToken = new HashMap<>();
          for (Lease lease : extended) {
            byToken.put(lease.token(), lease);
          }
          for (Due d : chunk) {
            Lease lease = byToken.get(d.lease().token());
            if (lease != null && lease.messageId() == d.lease().messageId()) {
              d.delivery().extended(lease);
            } else if (d.delivery().markLost()) {
              engine.leaseLost();
              log.warn("pgqrs lost the lease of message {} on queue '{}' while holding it", d.delivery().id(),
                  d.queue());
            }
          }
        })
        .onErrorResume(e -> {
          log.warn("pgqrs could not extend the leases of {} messages, retrying at the next tick: {}", chunk.size(),
              e.toString());
          return Mono.empty();
        })
        .then();
  }
}
