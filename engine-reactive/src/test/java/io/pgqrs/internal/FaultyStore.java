package io.pgqrs.internal;

import io.pgqrs.Store;
import io.pgqrs.spi.StoreDriver;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A second engine over the real driver of a store under test, whose chosen driver calls fail a
 * given number of times before they reach the database: the store errors a real backend gives
 * under faults (a reset connection, a busy file), placed exactly where a test needs them. Closing
 * it stops its own consumers and maintenance but leaves the shared driver open.
 */
public final class FaultyStore implements AutoCloseable {

  private final Engine engine;
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private final Map<String, Supplier<? extends Throwable>> errors = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Map<String, java.util.List<Object>> firstArguments = new ConcurrentHashMap<>();
  private final Map<String, java.util.List<Object>> secondArguments = new ConcurrentHashMap<>();
  private final Map<String, Object> answers = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> answersLost = new ConcurrentHashMap<>();
  private final Map<String, Mono<Void>> gates = new ConcurrentHashMap<>();
  private final Map<String, Mono<Void>> answerGates = new ConcurrentHashMap<>();
  private volatile boolean fusing;

  private FaultyStore(Store store) {
    this(store, store.config());
  }

  private FaultyStore(Store store, io.pgqrs.PgqrsConfig config) {
    StoreDriver real = ((Engine) store).driver();
    StoreDriver faulty = (StoreDriver) Proxy.newProxyInstance(StoreDriver.class.getClassLoader(),
        new Class<?>[] {StoreDriver.class}, (proxy, method, args) -> {
          String name = method.getName();
          calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
          if (args != null && args.length > 0) {
            firstArguments.computeIfAbsent(name, n -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(args[0]);
          }
          if (args != null && args.length > 1) {
            secondArguments.computeIfAbsent(name, n -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(args[1]);
          }
          if (name.equals("close")) {
            return Mono.empty();
          }
          if (name.equals("claimsAndSettlesInOneRoundTrip")) {
            // Planned faults are per method: a fused claim would carry settles past them.
            return fusing && real.claimsAndSettlesInOneRoundTrip();
          }
          Object answer = answers.get(name);
          if (answer != null) {
            return answer;
          }
          Mono<Void> gate = gates.get(name);
          if (gate != null) {
            return gate.then(Mono.defer(() -> {
              try {
                return (Mono<?>) method.invoke(real, args);
              } catch (ReflectiveOperationException e) {
                return Mono.error(e.getCause() != null ? e.getCause() : e);
              }
            }));
          }
          Mono<Void> answerGate = answerGates.get(name);
          if (answerGate != null) {
            try {
              return ((Mono<?>) method.invoke(real, args)).flatMap(reply -> answerGate.thenReturn(reply));
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          }
          AtomicInteger lost = answersLost.get(name);
          if (lost != null && lost.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0) {
            Throwable error = errors.get(name).get();
            try {
              return ((Mono<?>) method.invoke(real, args)).then(Mono.error(error));
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          }
          AtomicInteger left = failuresLeft.get(name);
          if (left != null && left.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0) {
            Throwable error = errors.get(name).get();
            return Flux.class.isAssignableFrom(method.getReturnType()) ? Flux.error(error) : Mono.error(error);
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    this.engine = Engine.over(faulty, config);
  }

  /**
   * An engine sharing the store's driver, with no faults planned yet.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @return the faulty store
   */
  public static FaultyStore over(Store store) {
    return new FaultyStore(store);
  }

  /**
   * An engine sharing the store's driver, configured as {@code configure} changes the store's
   * configuration (its timers' scheduler, say), with no faults planned yet.
   *
   * @param store a store opened by {@link io.pgqrs.Pgqrs#connect}
   * @param configure what to change in the store's configuration
   * @return the faulty store
   */
  public static FaultyStore over(Store store, java.util.function.UnaryOperator<io.pgqrs.PgqrsConfig> configure) {
    return new FaultyStore(store, configure.apply(store.config()));
  }

  /**
   * Lets the engine's consumers send settles with their claims ({@code claimAndSettle}) when the
   * real driver does that in one round trip. Off by default: a consumer then settles through the
   * engine's completer ({@code archive}, {@code settleMany}, ...), where the faults planned on
   * those methods apply.
   *
   * @return this
   */
  public FaultyStore fusingSettles() {
    fusing = true;
    return this;
  }

  /**
   * Makes the next {@code times} calls of a driver method fail with a new error each.
   *
   * @param method the {@link StoreDriver} method's name
   * @param times how many calls fail; {@link Integer#MAX_VALUE} for all of them
   * @param error makes each error
   * @return this
   */
  public FaultyStore fail(String method, int times, Supplier<? extends Throwable> error) {
    errors.put(method, error);
    failuresLeft.computeIfAbsent(method, n -> new AtomicInteger()).set(times);
    return this;
  }

  /**
   * Answers every later call of a driver method with a fixed value instead of the database's.
   *
   * @param method the {@link StoreDriver} method's name
   * @param answer what each call returns, a {@link Mono} or {@link Flux}
   * @return this
   */
  public FaultyStore answer(String method, Object answer) {
    answers.put(method, answer);
    return this;
  }

  /**
   * Holds every later call of a driver method returning a {@link Mono} until {@code gate}
   * completes, then lets it through.
   *
   * @param method the {@link StoreDriver} method's name
   * @param gate completes when the calls may go on
   * @return this
   */
  public FaultyStore hold(String method, Mono<Void> gate) {
    gates.put(method, gate);
    return this;
  }

  /**
   * Lets every later call of a driver method returning a {@link Mono} reach the database and take
   * effect, and holds its answer until {@code gate} completes: a reply still on its way when
   * something else happens.
   *
   * @param method the {@link StoreDriver} method's name
   * @param gate completes when the answers may go on
   * @return this
   */
  public FaultyStore holdAnswers(String method, Mono<Void> gate) {
    answerGates.put(method, gate);
    return this;
  }

  /**
   * Lets the next {@code times} calls of a driver method returning a {@link Mono} reach the
   * database and take effect, then fail with a new error each instead of answering: a connection
   * lost after the commit and before the reply.
   *
   * @param method the {@link StoreDriver} method's name
   * @param times how many answers are lost
   * @param error makes each error
   * @return this
   */
  public FaultyStore loseAnswers(String method, int times, Supplier<? extends Throwable> error) {
    errors.put(method, error);
    answersLost.computeIfAbsent(method, n -> new AtomicInteger()).set(times);
    return this;
  }

  /** Lets every later call of a driver method through. */
  public FaultyStore heal(String method) {
    failuresLeft.computeIfAbsent(method, n -> new AtomicInteger()).set(0);
    answersLost.computeIfAbsent(method, n -> new AtomicInteger()).set(0);
    return this;
  }

  /** How many times a driver method was called, failed calls included. */
  public int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  /** How many times each driver method was called so far, by method name: a snapshot. */
  public Map<String, Integer> callsByMethod() {
    Map<String, Integer> snapshot = new java.util.TreeMap<>();
    calls.forEach((name, n) -> snapshot.put(name, n.get()));
    return snapshot;
  }

  /** The first argument of each call of a driver method so far, in call order (failed calls included). */
  public java.util.List<Object> firstArguments(String method) {
    java.util.List<Object> args = firstArguments.get(method);
    return args == null ? java.util.List.of() : java.util.List.copyOf(args);
  }
  /**
   * The second argument of every call of a driver method so far, in call order (the settles of
   * {@code claimAndSettle}, say).
   *
   * @param method the {@link StoreDriver} method's name
   * @return the arguments; empty if it was never called with two
   */
  public java.util.List<Object> secondArguments(String method) {
    return java.util.List.copyOf(secondArguments.getOrDefault(method, java.util.List.of()));
  }


  /** The engine, used as any store. */
  public Store store() {
    return engine;
  }

  /** Closes the engine (its consumers and maintenance), waiting at most 30 seconds; the shared driver stays open. */
  @Override
  public void close() {
    engine.close().block(java.time.Duration.ofSeconds(30));
  }
}
