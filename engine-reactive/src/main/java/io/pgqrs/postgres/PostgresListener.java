package io.pgqrs.postgres;

import io.pgqrs.internal.Emitters;
import io.pgqrs.internal.SqlStatements;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The engine's one LISTEN connection, outside the pool, fanning notifications out to every
 * consumer stream of this process. Notifications only wake consumers; the table is the truth.
 *
 * <p>The connection is opened on the first subscription. Its notification stream is subscribed
 * before any LISTEN is sent, so nothing committed after a LISTEN is missed. When the connection
 * dies it is reopened with backoff, every channel is listened to again, and every queue is woken
 * once, since notifications sent while it was away are lost. A ping (the {@code ping} statement)
 * every two seconds finds a dead connection that does not say so.
 *
 * <p>A queue's notification sent by this engine's {@link PostgresNotifier} carries this listener's
 * {@link #origin()} and is ignored when it comes back: the engine woke its consumers in process
 * ({@link #wakeHere}) when the write committed, and a second wake-up would only cost an empty claim.
 * Every other notification (another engine's, or one sent in a caller's transaction) wakes.
 */
final class PostgresListener {

  private static final Logger log = LoggerFactory.getLogger(PostgresListener.class);

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration PROBE_INTERVAL = Duration.ofSeconds(2);

  private final PostgresqlConnectionFactory factory;
  private final String schema;
  private final SqlStatements sql;
  private final Map<String, String> queueByChannel = new ConcurrentHashMap<>();
  private final Sinks.Many<Notice> woken = Sinks.many().multicast().directBestEffort();
  private final Sinks.Many<String> channels = Sinks.many().replay().all();
  private final AtomicBoolean started = new AtomicBoolean();
  private final String origin = newOrigin();
  private volatile @Nullable Disposable session;
  private volatile boolean closed;

  /**
   * A listener that has not connected yet.
   *
   * @param sql the statements of the store, from {@link PostgresStatements#forSchema}
   */
  PostgresListener(PostgresqlConnectionFactory factory, String schema, SqlStatements sql) {
    this.factory = factory;
    this.schema = schema;
    this.sql = sql;
  }

  /**
   * A new engine's origin: the payload of its own queue notifications. Random, so that no two
   * engines share one; it starts with a letter, so it never reads as a run id.
   */
  static String newOrigin() {
    byte[] bytes = new byte[12];
    new SecureRandom().nextBytes(bytes);
    return "e" + HexFormat.of().formatHex(bytes);
  }

  /** The payload of this engine's own queue notifications, which this listener ignores. */
  String origin() {
    return origin;
  }

  /** The channel of a queue: a digest, because channel names are identifiers of at most 63 bytes. */
  static String channel(String schema, String queue) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((schema + "\u0000" + queue).getBytes(StandardCharsets.UTF_8));
      return "pgqrs_" + HexFormat.of().formatHex(digest, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  /** A notification, or with an empty payload, a LISTEN just (re)established on the channel. */
  private record Notice(String channel, String payload) {}

  Flux<String> wakeups(String queue) {
    return notifications(queue).map(payload -> queue);
  }

  /**
   * The payloads notified on the channel of {@code key} (see {@link #channel}); an empty payload
   * also follows every LISTEN of the channel, since notifications sent while it was not listened
   * to are lost. Hot and best-effort.
   */
  Flux<String> notifications(String key) {
    String channel = channel(schema, key);
    return Flux.defer(() -> {
      if (closed) {
        return Flux.<String>empty();
      }
      // The wake that follows a new LISTEN must find this subscriber in place: subscribe to the
      // fan-out first, and only then ask for the channel.
      return Flux.merge(
          woken.asFlux().filter(n -> n.channel().equals(channel)).map(Notice::payload),
          Mono.<String>fromRunnable(() -> {
            if (queueByChannel.putIfAbsent(channel, key) == null) {
              Emitters.emitNext(channels, channel);
            }
            start();
          }));
    });
  }

  private void start() {
    if (started.compareAndSet(false, true)) {
      session = listen()
          .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(5))
              .doBeforeRetry(s -> log.warn("pgqrs listener connection lost ({}); reconnecting",
                  s.failure().toString())))
          .subscribe(v -> { }, e -> log.error("pgqrs listener stopped", e));
    }
  }

  /**
   * Wakes this engine's subscribers of {@code key} at once, after a commit made here; the
   * notification of that commit, carrying {@link #origin()}, is ignored when it comes back.
   */
  void wakeHere(String key) {
    if (!closed) {
      wake(channel(schema, key), "");
    }
  }

  private void wake(String channel, String payload) {
    Emitters.emitNext(woken, new Notice(channel, payload));
  }

  private Mono<Void> listen() {
    return Mono.usingWhen(factory.create(),
        (PostgresqlConnection connection) -> Flux.merge(
                // Subscribed first: notifications of a channel flow as soon as its LISTEN is done.
                connection.getNotifications()
                    .doOnNext(n -> {
                      String payload = n.getParameter() == null ? "" : n.getParameter();
                      // Sent by this engine, whose consumers were woken in process at the commit.
                      if (!payload.equals(origin)) {
                        wake(n.getName(), payload);
                      }
                    })
                    .then(Mono.error(new IllegalStateException("listener connection closed"))),
                channels.asFlux().concatMap(channel -> connection
                        .createStatement(PostgresStatements.withChannel(sql.get("listen"), channel)).execute()
                    .flatMap(r -> r.getRowsUpdated())
                    .then(Mono.fromRunnable(() -> wake(channel, ""))))
                    .then(Mono.never()),
                probe(connection))
            .then(),
        PostgresListener::closeQuietly,
        (c, error) -> closeQuietly(c),
        PostgresListener::closeQuietly);
  }

  /**
   * Fails when the connection stops answering. The notification stream alone does not always end
   * when the backend is terminated, and a half-open TCP connection never signals at all.
   */
  private Mono<Void> probe(PostgresqlConnection connection) {
    String ping = sql.get("ping");
    return Flux.interval(PROBE_INTERVAL)
        .concatMap(tick -> Flux.from(connection.createStatement(ping).execute())
            .flatMap(r -> r.getRowsUpdated())
            .then()
            .timeout(PROBE_INTERVAL))
        .then();
  }

  /** Closing a connection whose backend is gone may never complete: bound it, and ignore failures. */
  private static Mono<Void> closeQuietly(PostgresqlConnection connection) {
    return connection.close().timeout(CLOSE_TIMEOUT).onErrorResume(e -> Mono.empty());
  }

  Mono<Void> close() {
    return Mono.fromRunnable(() -> {
      closed = true;
      Disposable s = session;
      if (s != null) {
        s.dispose();
      }
      Emitters.complete(woken);
    });
  }
}
