package io.pgqrs.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.RateLimit;
import io.pgqrs.queue.RateLimitedException;
import io.pgqrs.queue.ValidationRules;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.spi.StoreResults;
import io.r2dbc.spi.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A producer: validation and rate limit in memory, then one driver call per enqueue or batch, on a
 * pooled connection or, for a view from {@link #inTransaction}, on the caller's.
 */
final class DefaultProducer implements Producer {

  static final int MAX_BATCH = 10_000;
  private static final int MAX_DEDUP_KEY = 512;

  private final StoreDriver driver;
  private final String queue;
  private final PayloadValidator validator;
  private final @Nullable TokenBucket bucket;
  /** The caller's connection this view enqueues on, or null for the engine's own connections. */
  private final @Nullable Connection callerConnection;
  private final java.util.function.Supplier<Telemetry> telemetry;

  private DefaultProducer(StoreDriver driver, String queue, PayloadValidator validator, @Nullable TokenBucket bucket,
      @Nullable Connection callerConnection, java.util.function.Supplier<Telemetry> telemetry) {
    this.telemetry = telemetry;
    this.driver = driver;
    this.queue = queue;
    this.validator = validator;
    this.bucket = bucket;
    this.callerConnection = callerConnection;
  }

  @Override
  public Producer inTransaction(Connection connection) {
    // The same rules and the same bucket: a bound view spends the producer's rate limit.
    return new DefaultProducer(driver, queue, validator, bucket, CallerTransactions.require(connection), telemetry);
  }

  @Override
  public String queue() {
    return queue;
  }

  @Override
  public Mono<Long> enqueue(Object payload) {
    return enqueueOne(payload instanceof NewMessage m ? m : NewMessage.of(payload));
  }

  @Override
  public Mono<Long> enqueue(NewMessage message) {
    return enqueueOne(message);
  }

  @Override
  public Mono<Long> enqueueDelayed(Object payload, Duration delay) {
    return Mono.defer(() -> enqueueOne(NewMessage.of(payload).withDelay(delay)));
  }

  @Override
  public Mono<Long> enqueueAt(Object payload, Instant at) {
    return Mono.defer(() -> enqueueOne(NewMessage.of(payload).withVisibleAt(at)));
  }

  private Mono<Long> enqueueOne(NewMessage message) {
    return insert(message == null ? null : List.of(message)).map(ids -> ids.get(0));
  }

  @Override
  public Mono<List<Long>> enqueueBatch(List<NewMessage> messages) {
    return insert(messages);
  }

  @Override
  public Mono<List<Long>> enqueuePayloads(List<?> payloads) {
    return Mono.defer(() -> {
      if (payloads == null || payloads.stream().anyMatch(java.util.Objects::isNull)) {
        return Mono.error(new InvalidArgumentException("payloads", "payloads must be a list without nulls"));
      }
      return insert(payloads.stream().map(p -> p instanceof NewMessage m ? m : NewMessage.of(p)).toList());
    });
  }

  private Mono<List<Long>> insert(@Nullable List<NewMessage> messages) {
    return Mono.defer(() -> {
      if (messages == null || messages.isEmpty() || messages.size() > MAX_BATCH
          || messages.stream().anyMatch(java.util.Objects::isNull)) {
        return Mono.error(new InvalidArgumentException("messages",
            "a batch needs 1 to " + MAX_BATCH + " messages and no nulls, got "
                + (messages == null ? "null" : messages.size() + " message(s)")));
      }
      Telemetry t = telemetry.get();
      return t == Telemetry.NONE ? insertNow(messages) : t.aroundEnqueue(queue, messages, this::insertNow);
    });
  }

  /** The enqueue of a batch already checked for its size and nulls (a tracer may have added headers). */
  private Mono<List<Long>> insertNow(List<NewMessage> messages) {
    return Mono.defer(() -> {
      Connection bound = callerConnection;
      PgqrsException refused = bound == null ? null : CallerTransactions.refusal(driver, bound, "enqueue");
      if (refused != null) {
        return Mono.error(refused);
      }
      List<StoreParams.NewRow> rows = new ArrayList<>(messages.size());
      for (int i = 0; i < messages.size(); i++) {
        NewMessage m = messages.get(i);
        String key = m.dedupKey();
        if (key != null && (key.isEmpty() || key.length() > MAX_DEDUP_KEY || StoredText.unstorableAt(key) >= 0)) {
          return Mono.error(new InvalidArgumentException("dedupKey", "dedup key of message " + i + " must have 1 to "
              + MAX_DEDUP_KEY + " characters, without NUL or lone surrogates (the store cannot keep them exactly)"));
        }
        String group = m.groupKey();
        if (group != null && StoredText.unstorableAt(group) >= 0) {
          return Mono.error(new InvalidArgumentException("groupKey", "group key of message " + i
              + " has a lone surrogate (the store cannot keep it exactly)"));
        }
        for (Map.Entry<String, String> h : m.headers().entrySet()) {
          if (StoredText.unstorableAt(h.getKey()) >= 0 || StoredText.unstorableAt(h.getValue()) >= 0) {
            return Mono.error(new InvalidArgumentException("headers", "header '" + h.getKey() + "' of message "
                + i + " has a NUL or a lone surrogate (the store cannot keep it exactly)"));
          }
        }
        rows.add(new StoreParams.NewRow(validator.toCheckedJson(queue, i, m.payload()), m.delay(), m.visibleAt(),
            key, m.priority(), group, Json.headersJson(m.headers())));
      }
      if (bucket != null) {
        if (rows.size() > bucket.capacity()) {
          return Mono.error(new InvalidArgumentException("messages", "a batch of " + rows.size()
              + " messages can never fit the producer's rate-limit burst of " + bucket.capacity()));
        }
        Duration wait = bucket.tryAcquire(rows.size());
        if (!wait.isZero()) {
          return Mono.error(new RateLimitedException(queue, wait, "producer for queue '" + queue
              + "' is over its rate limit; retry after " + wait.toMillis() + " ms"));
        }
      }
      StoreParams.Enqueue enqueue = new StoreParams.Enqueue(queue, rows, null);
      return (bound == null ? driver.enqueue(enqueue) : driver.enqueueInTransaction(enqueue, bound))
          .doOnNext(this::observe)
          .map(results -> results.stream().map(StoreResults.Enqueued::id).toList());
    });
  }

  private void observe(List<StoreResults.Enqueued> results) {
    Telemetry t = telemetry.get();
    if (t == Telemetry.NONE) {
      return;
    }
    int inserted = 0;
    for (StoreResults.Enqueued r : results) {
      if (r.inserted()) {
        inserted++;
      }
    }
    if (inserted > 0) {
      t.enqueued(queue, inserted);
    }
  }

  /** Builds producers. */
  static final class Builder implements Producer.Builder {
    private final StoreDriver driver;
    private final String queue;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final java.util.function.Supplier<Telemetry> telemetry;
    private ValidationRules rules = ValidationRules.defaults();
    private @Nullable RateLimit rateLimit;

    Builder(StoreDriver driver, String queue, ObjectMapper mapper, Clock clock,
        java.util.function.Supplier<Telemetry> telemetry) {
      this.telemetry = telemetry;
      this.driver = driver;
      this.queue = queue;
      this.mapper = mapper;
      this.clock = clock;
    }

    @Override
    public Producer.Builder validation(ValidationRules value) {
      this.rules = Objects.requireNonNull(value, "rules");
      return this;
    }

    @Override
    public Producer.Builder rateLimit(@Nullable RateLimit value) {
      this.rateLimit = value;
      return this;
    }

    @Override
    public Producer build() {
      // The engine's clock paces the bucket, so a settable clock moves rate limits on in tests.
      TokenBucket bucket = rateLimit == null ? null : new TokenBucket(rateLimit, () -> nanos(clock.instant()));
      return new DefaultProducer(driver, queue, new PayloadValidator(rules, mapper), bucket, null, telemetry);
    }

    private static long nanos(Instant instant) {
      return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
  }
}
