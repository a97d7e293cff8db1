package io.pgqrs.internal;

import io.pgqrs.StoreUnavailableException;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.pgqrs.spi.StoreResults.Settled;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Settles the messages of every consumer session of an engine (archive, delete, release, dead
 * letter), one store statement for all the settles that arrive while the previous one is in flight
 * ({@link io.pgqrs.spi.StoreDriver#settleMany}), so the store's traffic per message falls as
 * concurrency grows, across sessions as within one. Nothing waits on a timer: a settle that arrives
 * when nothing is in flight is written at once, and a lone settle goes through its kind's own
 * single-row statement. A batch is capped at {@link #MAX_PER_STATEMENT} settles; what does not fit
 * goes with the next one.
 *
 * <p>Each settle is fenced by its own lease and answered on its own; an error of a batch's
 * statement goes to every settle of that batch (the delivery's settle retries decide what next).
 * Two settles of one message never share a statement: the later waits for the next one, so it sees
 * what the first did. The engine creates one completer and {@link #stop stops} it once its sessions
 * have finished, as it does its {@link LeaseKeeper}. Workflow runs finish through their own batcher.
 */
final class Completer {

  /** Settles per statement: bounds a statement's arrays (or transaction) and its row locks. */
  static final int MAX_PER_STATEMENT = 500;

  private final Engine engine;
  private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  /** Settles held back from a batch that already named their message; only touched in {@link #drain}. */
  private ArrayDeque<Pending> heldBack = new ArrayDeque<>();
  private volatile boolean writing;
  private volatile boolean stopped;

  private record Pending(StoreParams.Settle settle, MonoSink<Settled> result) {}

  Completer(Engine engine) {
    this.engine = engine;
  }

  /**
   * Settles one message, possibly in one statement with others. Cold; cancelling does not withdraw
   * a settle already handed to a write.
   *
   * @param settle what to do, fenced by its lease
   * @return what the store found for it; errors with the store's error of its batch, or
   *     {@link StoreUnavailableException} once the completer is stopped
   */
  Mono<Settled> settle(StoreParams.Settle settle) {
    return Mono.create(sink -> {
      if (stopped) {
        sink.error(new StoreUnavailableException("settle", "the store is closed: message " + settle.messageId()
            + " was not settled", null));
        return;
      }
      pending.add(new Pending(settle, sink));
      drain();
    });
  }

  /** Refuses settles from now on; a write in flight, and what is queued behind it, still goes. Idempotent. */
  void stop() {
    stopped = true;
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (!writing && (!heldBack.isEmpty() || !pending.isEmpty())) {
        List<Pending> batch = new ArrayList<>();
        Set<Long> named = new HashSet<>();
        ArrayDeque<Pending> again = new ArrayDeque<>();
        Pending next;
        // What was held back goes first, so the settles of one message keep their order.
        while (batch.size() < MAX_PER_STATEMENT
            && (next = heldBack.isEmpty() ? pending.poll() : heldBack.poll()) != null) {
          if (named.add(next.settle().messageId())) {
            batch.add(next);
          } else {
            again.add(next);
          }
        }
        again.addAll(heldBack);
        heldBack = again;
        writing = true;
        write(batch);
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private void write(List<Pending> batch) {
    Mono.defer(() -> batch.size() == 1
            ? alone(batch.get(0).settle()).map(List::of)
            : engine.driver().settleMany(new StoreParams.SettleMany(
                batch.stream().map(Pending::settle).toList(), null)))
        .subscribe(results -> {
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).result().success(results.get(i));
          }
        }, error -> {
          for (Pending p : batch) {
            p.result().error(error);
          }
          done();
        }, this::done);
  }

  /**
   * A lone settle through its kind's single-row statement: no arrays to build or unnest. Such a
   * statement cannot tell an archive already made under the lease from a lost one, so a lone
   * archive that finds no lease answers {@link Settled#NOT_HELD}.
   */
  private Mono<Settled> alone(StoreParams.Settle s) {
    StoreParams.LeaseRef lease = new StoreParams.LeaseRef(s.messageId(), s.token(), null);
    Mono<Boolean> done = switch (s.kind()) {
      case ARCHIVE -> engine.driver().archive(lease);
      case DELETE -> engine.driver().delete(lease);
      case RELEASE -> engine.driver().release(new StoreParams.Release(lease,
          java.util.Objects.requireNonNull(s.delay(), "delay"), s.error()));
      case DEAD_LETTER -> engine.driver().deadLetter(new StoreParams.DeadLetter(lease,
          java.util.Objects.requireNonNull(s.error(), "error")));
    };
    return done.map(applied -> applied ? Settled.APPLIED : Settled.NOT_HELD).defaultIfEmpty(Settled.NOT_HELD);
  }

  private void done() {
    writing = false;
    drain();
  }

  /** Whether a settle's answer means the store did what was asked (now or in an earlier attempt). */
  static boolean applied(StoreResults.Settled settled) {
    return settled != Settled.NOT_HELD;
  }
}
