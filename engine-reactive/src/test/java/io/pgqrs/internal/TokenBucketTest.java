package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.queue.RateLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pure tests of {@link TokenBucket} driven by a hand-moved nanosecond clock; no sleeps. */
class TokenBucketTest {

  /** Deliberately negative, like {@link System#nanoTime()} may be. */
  private static final long START = -5_000_000_000L;

  private final AtomicLong now = new AtomicLong(START);

  private TokenBucket bucket(double permitsPerSecond, int burst) {
    return new TokenBucket(new RateLimit(permitsPerSecond, burst), now::get);
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }

  @Test
  void aNewBucketIsFullSoTheWholeBurstIsAllowedAtOnce() {
    TokenBucket bucket = bucket(10, 5);

    for (int i = 0; i < 5; i++) {
      assertThat(bucket.tryAcquire(1)).as("permit %d", i + 1).isZero();
    }
  }

  @Test
  void afterTheBurstTheNextPermitIsRefusedWithTheTimeUntilOneRefills() {
    TokenBucket bucket = bucket(10, 5);
    for (int i = 0; i < 5; i++) {
      bucket.tryAcquire(1);
    }

    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
  }

  @Test
  void refusalTakesNothingSoTheRetryAfterDoesNotGrow() {
    TokenBucket bucket = bucket(10, 1);
    bucket.tryAcquire(1);

    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
    advance(ms(40));
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(60));
  }

  @Test
  void retryAfterShrinksAsTimePasses() {
    TokenBucket bucket = bucket(1, 1);
    bucket.tryAcquire(1);

    advance(ms(250));
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(750));
    advance(ms(500));
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(250));
  }

  @Test
  void permitsRefillOverTime() {
    TokenBucket bucket = bucket(10, 5);
    assertThat(bucket.tryAcquire(5)).isZero();

    advance(ms(99));
    assertThat(bucket.tryAcquire(1)).isPositive();
    advance(ms(1));
    assertThat(bucket.tryAcquire(1)).isZero();
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));

    advance(ms(250));
    assertThat(bucket.tryAcquire(1)).isZero();
    assertThat(bucket.tryAcquire(1)).isZero();
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(50));
  }

  @Test
  void fractionalRatesRefillSlowly() {
    TokenBucket bucket = bucket(0.5, 1);
    bucket.tryAcquire(1);

    assertThat(bucket.tryAcquire(1)).isEqualTo(Duration.ofSeconds(2));
    advance(Duration.ofSeconds(2));
    assertThat(bucket.tryAcquire(1)).isZero();
  }

  @ParameterizedTest(name = "{0}/s burst {1}")
  @CsvSource({"1, 1", "3, 2", "7, 5", "10, 3", "0.3, 2", "0.7, 1", "33.3, 4", "1000, 10", "12345.678, 3"})
  void waitingExactlyTheRetryAfterIsAlwaysEnough(double rate, int burst) {
    TokenBucket bucket = bucket(rate, burst);
    assertThat(bucket.tryAcquire(burst)).isZero();

    for (int i = 0; i < 1_000; i++) {
      Duration wait = bucket.tryAcquire(1);
      assertThat(wait).as("round %d", i).isPositive();
      advance(wait);
      assertThat(bucket.tryAcquire(1)).as("round %d after waiting %s", i, wait).isZero();
    }
  }

  @Test
  void permitsNeverAccumulateAboveTheBurst() {
    TokenBucket bucket = bucket(10, 5);

    advance(Duration.ofHours(10));

    for (int i = 0; i < 5; i++) {
      assertThat(bucket.tryAcquire(1)).isZero();
    }
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
  }

  @Test
  void permitsNeverAccumulateAboveTheBurstEvenAfterPartialUse() {
    TokenBucket bucket = bucket(10, 5);
    bucket.tryAcquire(2);

    advance(Duration.ofDays(365));

    assertThat(bucket.tryAcquire(5)).isZero();
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
  }

  @Test
  void multiPermitAcquireIsAllOrNothing() {
    TokenBucket bucket = bucket(10, 5);
    assertThat(bucket.tryAcquire(3)).isZero();

    assertThat(bucket.tryAcquire(3)).as("2 left, 3 asked").isEqualTo(ms(100));
    assertThat(bucket.tryAcquire(2)).as("the refused request took nothing").isZero();
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
  }

  @Test
  void multiPermitRetryAfterCoversEveryMissingPermit() {
    TokenBucket bucket = bucket(10, 5);
    bucket.tryAcquire(5);

    assertThat(bucket.tryAcquire(3)).isEqualTo(ms(300));
    advance(ms(300));
    assertThat(bucket.tryAcquire(3)).isZero();
  }

  @Test
  void theWholeBurstCanBeTakenInOneRequest() {
    TokenBucket bucket = bucket(10, 5);

    assertThat(bucket.tryAcquire(5)).isZero();
    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
  }

  @Test
  void requestLargerThanTheBurstIsNeverGranted() {
    TokenBucket bucket = bucket(10, 5);

    assertThat(bucket.tryAcquire(6)).isPositive();
    advance(Duration.ofDays(1));
    assertThat(bucket.tryAcquire(6)).isPositive();
    assertThat(bucket.tryAcquire(5)).as("the refused request took nothing").isZero();
  }

  @Test
  void capacityIsTheBurst() {
    assertThat(bucket(10, 7).capacity()).isEqualTo(7);
    assertThat(bucket(0.1, 1).capacity()).isEqualTo(1);
  }

  @Test
  void concurrentCallersNeverShareMoreThanTheBurstWhileTheClockStands() throws Exception {
    TokenBucket bucket = bucket(1, 50);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          start.await();
          int granted = 0;
          for (int i = 0; i < 1_000; i++) {
            if (bucket.tryAcquire(1).isZero()) {
              granted++;
            }
          }
          return granted;
        }));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get(10, TimeUnit.SECONDS);
      }

      assertThat(total).isEqualTo(50);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClockSteppingBackRefillsNothingAndCountsOnFromTheEarlierReading() {
    TokenBucket bucket = bucket(10, 1);
    assertThat(bucket.tryAcquire(1)).isZero();
    advance(ms(-5_000));

    assertThat(bucket.tryAcquire(1)).isEqualTo(ms(100));
    advance(ms(100));
    assertThat(bucket.tryAcquire(1)).isZero();
  }
}
