package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.queue.Consumer;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.Outcome;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/** The engine's {@link Consumer}: immutable settings; each subscription runs a {@link ConsumerSession}. */
final class DefaultConsumer implements Consumer {

  /** A consumer's settings, checked and defaulted. */
  record Settings(
      String queue,
      int batchSize,
      int maxInFlight,
      int concurrency,
      int handlerInFlight,
      int handlerInFlightFloor,
      Duration lease,
      Duration pollInterval,
      boolean wakeups,
      Duration heartbeatInterval,
      String workerName,
      Duration handlerTimeout,
      RetryPolicy retryPolicy,
      boolean deleteOnSuccess,
      Duration shutdownTimeout,
      boolean endWhenWorkerStopped,
      boolean workflowHandler) {}

  private final Engine engine;
  private final Settings settings;

  private DefaultConsumer(Engine engine, Settings settings) {
    this.engine = engine;
    this.settings = settings;
  }

  @Override
  public String queue() {
    return settings.queue();
  }

  @Override
  public Flux<Delivery> deliveries() {
    return Flux.defer(() -> new ConsumerSession(engine, settings, false).deliveries());
  }

  @Override
  public Flux<Outcome> handle(Function<? super Message, ? extends Publisher<?>> handler) {
    Objects.requireNonNull(handler, "handler");
    return Flux.defer(() -> new HandlerRun(new ConsumerSession(engine, settings, true),
        d -> handler.apply(d.message()), null).outcomes());
  }

  @Override
  public Flux<Outcome> handle(Function<? super Message, ? extends Publisher<?>> handler, Publisher<?> stop) {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(stop, "stop");
    return Flux.defer(() -> new HandlerRun(new ConsumerSession(engine, settings, true),
        d -> handler.apply(d.message()), stop).outcomes());
  }

  @Override
  public Flux<Outcome> handleDeliveries(Function<? super Delivery, ? extends Publisher<?>> handler) {
    Objects.requireNonNull(handler, "handler");
    return Flux.defer(() -> new HandlerRun(new ConsumerSession(engine, settings, true), handler::apply, null).outcomes());
  }

  @Override
  public Flux<Outcome> handleDeliveries(Function<? super Delivery, ? extends Publisher<?>> handler, Publisher<?> stop) {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(stop, "stop");
    return Flux.defer(() -> new HandlerRun(new ConsumerSession(engine, settings, true), handler::apply, stop).outcomes());
  }

  /**
   * The handler runtime for the engine's own handlers, which settle deliveries themselves (the
   * workflow worker), until {@code stop}; {@code onSession} is told the session of each subscription.
   */
  Flux<Outcome> runHandler(Function<DefaultDelivery, ? extends Publisher<?>> handler, Publisher<?> stop,
      java.util.function.Consumer<ConsumerSession> onSession) {
    return Flux.defer(() -> {
      ConsumerSession session = new ConsumerSession(engine, settings, true);
      onSession.accept(session);
      return new HandlerRun(session, handler, stop).outcomes();
    });
  }

  @Override
  public String toString() {
    return "Consumer" + settings;
  }

  /** The builder behind {@link io.pgqrs.Store#consumer(String)}. */
  static final class Builder implements Consumer.Builder {

    /** The least the most an automatic prefetch may reach; four times the concurrency when that is more. */
    static final int AUTO_PREFETCH_MIN_CEILING = 32;

    private final Engine engine;
    private final String queue;
    private int batchSize = 10;
    private @Nullable Integer maxInFlight;
    private int concurrency = 8;
    private @Nullable Integer prefetch;
    private Duration lease;
    private Duration pollInterval;
    private boolean wakeups = true;
    private Duration heartbeatInterval;
    private @Nullable String workerName;
    private Duration handlerTimeout = Duration.ofMinutes(5);
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private boolean deleteOnSuccess;
    private boolean workflowHandler;
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private boolean endWhenWorkerStopped;

    Builder(Engine engine, String queue) {
      this.engine = engine;
      this.queue = queue;
      this.lease = engine.config().leaseDuration();
      this.pollInterval = engine.config().pollInterval();
      this.heartbeatInterval = engine.config().heartbeatInterval();
    }

    @Override
    public Builder batchSize(int batchSize) {
      this.batchSize = range("batchSize", batchSize, 1000);
      return this;
    }

    @Override
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = range("maxInFlight", maxInFlight, 10_000);
      return this;
    }

    @Override
    public Builder concurrency(int concurrency) {
      this.concurrency = range("concurrency", concurrency, 10_000);
      return this;
    }

    @Override
    public Builder prefetch(int prefetch) {
      if (prefetch < 0 || prefetch > 10_000) {
        throw new InvalidArgumentException("prefetch", "prefetch must be between 0 and 10000, got " + prefetch);
      }
      this.prefetch = prefetch;
      return this;
    }

    @Override
    public Builder lease(Duration lease) {
      this.lease = positive("lease", lease);
      return this;
    }

    @Override
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = positive("pollInterval", pollInterval);
      return this;
    }

    @Override
    public Builder wakeups(boolean wakeups) {
      this.wakeups = wakeups;
      return this;
    }

    @Override
    public Builder heartbeatInterval(Duration heartbeatInterval) {
      this.heartbeatInterval = positive("heartbeatInterval", heartbeatInterval);
      return this;
    }

    @Override
    public Builder workerName(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank() || name.length() > 150) {
        throw new InvalidArgumentException("workerName", "workerName must be 1 to 150 characters, got "
            + name.length());
      }
      this.workerName = name;
      return this;
    }

    @Override
    public Builder handlerTimeout(Duration timeout) {
      this.handlerTimeout = positive("handlerTimeout", timeout);
      return this;
    }

    @Override
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    @Override
    public Builder deleteOnSuccess(boolean delete) {
      this.deleteOnSuccess = delete;
      return this;
    }

    @Override
    public Builder shutdownTimeout(Duration timeout) {
      Engine.checkNotNegative("shutdownTimeout", timeout);
      this.shutdownTimeout = timeout;
      return this;
    }

    @Override
    public Builder endWhenWorkerStopped(boolean end) {
      this.endWhenWorkerStopped = end;
      return this;
    }

    @Override
    public Consumer build() {
      int bound = maxInFlight != null ? maxInFlight : Math.max(2 * batchSize, concurrency);
      // Without a prefetch of the user's, the session sizes it from its handlers' pace (see
      // ConsumerSession#bound): from the concurrency up to the larger of 32 and four times it.
      int floor = concurrency + (prefetch != null ? prefetch : concurrency);
      int ceiling = prefetch != null ? floor : concurrency + Math.max(AUTO_PREFETCH_MIN_CEILING, 4 * concurrency);
      int handlerBound = maxInFlight != null ? Math.min(maxInFlight, ceiling) : ceiling;
      int handlerFloor = Math.min(handlerBound, floor);
      String name = workerName != null ? workerName : queue + "@" + engine.hostname();
      return new DefaultConsumer(engine, new Settings(queue, batchSize, bound, concurrency, handlerBound, handlerFloor, lease,
          pollInterval,
          wakeups && engine.wakeupsEnabled(), heartbeatInterval, name, handlerTimeout, retryPolicy, deleteOnSuccess,
          shutdownTimeout, endWhenWorkerStopped, workflowHandler));
    }

    /**
     * Marks the handler as the engine's workflow executor, which moves each run's body to the
     * run's own serial scheduler and bounds it by the run's deadline: a delivery goes to it on the
     * thread that delivered it, with no hop to the parallel scheduler first (a thread hop costs
     * more than a short step on a small machine) and no handler timeout.
     */
    Builder workflowHandler() {
      this.workflowHandler = true;
      return this;
    }

    private static int range(String field, int value, int max) {
      Engine.checkLimit(field, value, max);
      return value;
    }

    private static Duration positive(String field, Duration value) {
      Engine.checkPositive(field, value);
      return value;
    }
  }
}
