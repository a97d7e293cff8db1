package io.pgqrs.postgres;

import io.pgqrs.spi.StoreDriver;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/** Reads and steers the PostgreSQL driver's notifier, for tests outside this package. */
public final class PostgresProbe {

  private PostgresProbe() {}

  private static PostgresNotifier notifier(StoreDriver driver) {
    if (!(driver instanceof PostgresDriver postgres)) {
      throw new IllegalArgumentException("not a PostgreSQL driver: " + driver.getClass().getName());
    }
    return postgres.notifier();
  }

  /**
   * The NOTIFY statements the driver's notifier has sent (or tried) since the driver opened.
   *
   * @param driver a driver of {@code Pgqrs.connect} on PostgreSQL
   * @return the count
   */
  public static long notifyStatements(StoreDriver driver) {
    return notifier(driver).statements();
  }

  /**
   * The NOTIFY statements of the driver's notifier that failed.
   *
   * @param driver a driver of {@code Pgqrs.connect} on PostgreSQL
   * @return the count
   */
  public static long failedNotifyStatements(StoreDriver driver) {
    return notifier(driver).failures();
  }

  /**
   * Completes once the notifier has nothing in flight or waiting: every wake-up asked for before
   * has been committed (or dropped after its retry). Cold.
   *
   * @param driver a driver of {@code Pgqrs.connect} on PostgreSQL
   * @return completes when idle
   */
  public static Mono<Void> notifierIdle(StoreDriver driver) {
    return notifier(driver).idle();
  }

  /**
   * Makes the next {@code times} NOTIFY statements of the driver fail with the error, before they
   * reach the store; later ones are sent.
   *
   * @param driver a driver of {@code Pgqrs.connect} on PostgreSQL
   * @param times how many statements fail
   * @param error the failure of each
   */
  public static void failNotifies(StoreDriver driver, int times, Supplier<? extends Throwable> error) {
    java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(times);
    notifier(driver).decorate(real -> (channels, payloads) -> Mono.defer(
        () -> left.getAndDecrement() > 0 ? Mono.error(error.get()) : real.send(channels, payloads)));
  }

  /**
   * Announces finished runs through the driver's notifier, as a finish that committed does.
   *
   * @param driver a driver of {@code Pgqrs.connect} on PostgreSQL
   * @param runIds the runs
   */
  public static void announceRuns(StoreDriver driver, java.util.List<Long> runIds) {
    notifier(driver).runs(runIds);
  }
}
