package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreParams;
import io.pgqrs.workflow.StepStatus;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The store clock fills every empty "now" the SPI carries, at any depth, and keeps a given one. */
class StoreClockDriverTest {

  private static final Instant CLOCK = Instant.parse("2036-02-29T12:00:00Z");
  private static final Instant GIVEN = Instant.parse("2030-01-01T00:00:00Z");

  private final List<Object[]> seen = new ArrayList<>();

  /** A driver that records its arguments and answers every call with an empty Mono. */
  private StoreDriver clocked() {
    StoreDriver recording = (StoreDriver) Proxy.newProxyInstance(StoreDriver.class.getClassLoader(),
        new Class<?>[] {StoreDriver.class}, (proxy, method, args) -> {
          seen.add(args == null ? new Object[0] : args.clone());
          return Mono.empty();
        });
    return StoreClockDriver.over(recording, Clock.fixed(CLOCK, ZoneOffset.UTC));
  }

  @Test
  void aDirectNowParameterLeftEmptyIsTheClocksAndAGivenOneIsKept() {
    StoreDriver driver = clocked();
    driver.currentTime(null);
    driver.untilNextVisible("q", GIVEN);
    assertThat(seen.get(0)[0]).isEqualTo(CLOCK);
    assertThat(seen.get(1)).containsExactly("q", GIVEN);
  }

  @Test
  void nowsInNestedRecordsAndListsAreFilledAndTheRestIsUnchanged() {
    StoreDriver driver = clocked();
    UUID token = UUID.randomUUID();
    StoreParams.RecordStep step = new StoreParams.RecordStep(7, new StoreParams.LeaseRef(3, token, null), "1", "s",
        StepStatus.SUCCESS, "1", null, null, 1, null, null, 1, Duration.ZERO);
    StoreParams.RecordStep given = new StoreParams.RecordStep(8, new StoreParams.LeaseRef(4, token, GIVEN), "1", "s",
        StepStatus.SUCCESS, "2", null, null, 1, null, null, 2, Duration.ZERO);
    driver.recordSteps(new StoreParams.RecordSteps(List.of(step, given), null));
    StoreParams.RecordSteps filled = (StoreParams.RecordSteps) seen.get(0)[0];
    assertThat(filled.now()).isEqualTo(CLOCK);
    assertThat(filled.steps().get(0).lease()).isEqualTo(new StoreParams.LeaseRef(3, token, CLOCK));
    assertThat(filled.steps().get(0)).usingRecursiveComparison().ignoringFields("lease").isEqualTo(step);
    assertThat(filled.steps().get(1)).isSameAs(given);
  }

  @Test
  void aRecordWithoutAnEmptyNowIsPassedAsItIs() {
    StoreDriver driver = clocked();
    StoreParams.Claim claim = new StoreParams.Claim("q", 1, Duration.ofSeconds(30), null, GIVEN);
    driver.claim(claim);
    assertThat(seen.get(0)[0]).isSameAs(claim);
  }

  /**
   * The store clock reads every {@code Instant} parameter of a driver method as its "now"
   * override: a method added with an {@code Instant} of another meaning must change that rule.
   */
  @Test
  void theOnlyInstantParametersOfTheSpiAreNowOverrides() {
    TreeSet<String> withInstant = new TreeSet<>();
    for (Method m : StoreDriver.class.getMethods()) {
      if (Arrays.asList(m.getParameterTypes()).contains(Instant.class)) {
        withInstant.add(m.getName());
      }
    }
    assertThat(withInstant).containsExactly("countClaimable", "currentTime", "transactionalStep", "untilNextVisible");
  }
}
