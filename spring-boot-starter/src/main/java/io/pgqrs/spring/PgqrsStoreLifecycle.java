package io.pgqrs.spring;

import io.pgqrs.Store;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

/**
 * Closes the {@link Store} when the application stops. Its phase, {@link #PHASE}, is the lowest of
 * the starter's, so it stops last: after every {@code @PgqrsHandler} consumer and workflow worker
 * has drained. Closing is asynchronous in {@link #stop(Runnable)}; if the context is destroyed
 * without being stopped (a failed start-up), {@link #destroy()} closes the store instead.
 */
final class PgqrsStoreLifecycle implements SmartLifecycle, DisposableBean {

  /** Well below the default phase, so the store stops after everything that may use it. */
  static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 8192;

  /** The most the fallback close of {@link #destroy()} waits for. */
  private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(PgqrsStoreLifecycle.class);

  private final Store store;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean running;

  PgqrsStoreLifecycle(Store store) {
    this.store = store;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }

  @Override
  public void start() {
    running = true;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public void stop(Runnable callback) {
    running = false;
    if (!closed.compareAndSet(false, true)) {
      callback.run();
      return;
    }
    store.close().doFinally(signal -> callback.run())
        .subscribe(null, e -> log.warn("closing the pgqrs store failed", e));
  }

  @Override
  public void stop() {
    stop(() -> {});
  }

  /**
   * Closes the store if {@link #stop(Runnable)} did not, waiting on the destroying thread (the
   * container's, never a Reactor thread) so that the pool is closed when the context is.
   */
  @Override
  public void destroy() {
    if (closed.compareAndSet(false, true)) {
      try {
        store.close().block(DESTROY_TIMEOUT);
      } catch (RuntimeException e) {
        log.warn("closing the pgqrs store failed", e);
      }
    }
  }
}
