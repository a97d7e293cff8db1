package io.pgqrs.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.RetryPolicy;
import io.pgqrs.Store;
import io.pgqrs.queue.Outcome;
import io.pgqrs.workflow.RunHandle;
import io.pgqrs.workflow.StepInfo;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.Workflows;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * The patterns the kit is for, on whatever backend a subclass gives: the fields are injected by
 * {@link PgqrsExtension}. Every wait is a bounded {@code verify(Duration)}; time moves only by the
 * test clock.
 */
abstract class KitPatterns {

  static final Duration T = Duration.ofSeconds(20);

  Store store;
  TestClock clock;
  PgqrsTestKit kit;

  @Test
  void aDelayedMessageIsClaimableOnceTheClockPassesItsDelay() {
    store.queues().create("later").block(T);
    store.producer("later").build().enqueueDelayed(Map.of("n", 1), Duration.ofHours(1)).block(T);

    StepVerifier.create(kit.drain("later", m -> Mono.empty())).expectComplete().verify(T);
    clock.advance(Duration.ofMinutes(59));
    StepVerifier.create(kit.drain("later", m -> Mono.empty())).expectComplete().verify(T);
    clock.advance(Duration.ofMinutes(1));
    StepVerifier.create(kit.drain("later", m -> Mono.empty()))
        .assertNext(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED))
        .expectComplete()
        .verify(T);
  }

  @Test
  void theTimesTheStoreReportsAreTheClocks() {
    store.queues().create("dated").block(T);
    clock.advance(Duration.ofDays(1));
    Instant before = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    long id = store.producer("dated").build().enqueue(Map.of("n", 1)).block(T);
    Instant after = clock.instant().plusMillis(1);
    assertThat(store.messages().get(id).block(T).enqueuedAt()).isBetween(before, after);
  }

  @Test
  void aScheduleFiresOnceForEachTickTheClockPasses() {
    store.queues().create("yearly").block(T);
    // New Year's Day: no real tick comes while the test runs.
    store.schedules().create(io.pgqrs.schedule.NewSchedule.queue("new-year", "0 0 0 1 1 *", "yearly",
        Map.of("kind", "greeting")).withMissedTicks(io.pgqrs.schedule.MissedTicks.catchUp(5))).block(T);
    StepVerifier.create(kit.drain("yearly", m -> Mono.empty())).expectComplete().verify(T);

    clock.advance(Duration.ofDays(366));   // past the next New Year's Day, not the one after
    StepVerifier.create(kit.drain("yearly", m -> Mono.empty()))
        .assertNext(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED))
        .expectComplete()
        .verify(T);

    clock.advance(Duration.ofDays(3 * 366));   // three more, caught up by the policy
    StepVerifier.create(kit.drain("yearly", m -> Mono.empty()).count()).expectNext(3L).expectComplete().verify(T);
    assertThat(store.schedules().get("new-year").block(T).lastFiredAt()).isNotNull();
  }

  @Test
  void aHandlerThatFailsTwiceSucceedsOnItsThirdAttemptAsTheClockPassesTheBackoff() {
    store.queues().create("flaky").block(T);
    store.producer("flaky").build().enqueue(Map.of("to", "ada")).block(T);
    AtomicInteger calls = new AtomicInteger();
    java.util.function.Function<io.pgqrs.queue.Message, Mono<Void>> handler = m -> calls.incrementAndGet() <= 2
        ? Mono.error(new IllegalStateException("smtp down")) : Mono.empty();
    Duration backoff = Duration.ofMinutes(10);

    for (int attempt = 1; attempt <= 2; attempt++) {
      int expected = attempt;
      StepVerifier.create(kit.drain("flaky", c -> c.retryPolicy(RetryPolicy.fixed(backoff)), handler))
          .assertNext(o -> {
            assertThat(o.kind()).isEqualTo(Outcome.Kind.RETRY_SCHEDULED);
            assertThat(o.attempts()).isEqualTo(expected);
            assertThat(o.error()).contains("smtp down");
          })
          .expectComplete()
          .verify(T);
      clock.advance(backoff);
    }
    StepVerifier.create(kit.drain("flaky", c -> c.retryPolicy(RetryPolicy.fixed(backoff)), handler))
        .assertNext(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.ARCHIVED))
        .expectComplete()
        .verify(T);
    assertThat(calls).hasValue(3);
    StepVerifier.create(kit.deadLetters("flaky")).expectComplete().verify(T);
  }

  @Test
  void aWorkflowThatSleepsThreeDaysFinishesWithoutWaiting() {
    WorkflowDefinition<String, String> reminder = Workflows.define("reminder", String.class, String.class,
        (ctx, who) -> ctx.step("welcome", String.class, () -> Mono.just("hello " + who))
            .flatMap(w -> ctx.sleep(Duration.ofDays(3))
                .then(ctx.step("nudge", String.class, () -> Mono.just(w + ", still there?")))));
    Workflow<String, String> workflow = store.runs().register(reminder).block(T);

    StepVerifier.create(kit.runToEnd(workflow, "ada"))
        .expectNext("hello ada, still there?")
        .expectComplete()
        .verify(T);
    assertThat(clock.offset()).isGreaterThanOrEqualTo(Duration.ofDays(3).minusSeconds(1));
  }

  @Test
  void aRunInterruptedAfterItsFirstStepResumesWithoutRunningItAgain() {
    AtomicInteger charges = new AtomicInteger();
    Sinks.One<Boolean> secondStepStarted = Sinks.one();
    Supplier<WorkflowDefinition<String, String>> checkout = () -> Workflows.define("checkout", String.class,
        String.class, (ctx, order) -> ctx.step("charge", String.class,
                () -> Mono.fromSupplier(() -> "payment-" + charges.incrementAndGet()))
            .flatMap(p -> ctx.step("ship", String.class, () -> charges.get() > 0 && kit.store() == storeOfFirstLife
                ? Mono.<String>never().doOnSubscribe(s -> secondStepStarted.tryEmitValue(true))
                : Mono.just(p + "/shipped"))));
    storeOfFirstLife = store;
    Workflow<String, String> first = store.runs().register(checkout.get()).block(T);
    kit.worker(first);
    RunHandle<String> run = first.trigger("o-1").block(T);
    StepVerifier.create(secondStepStarted.asMono()).expectNext(true).expectComplete().verify(T);

    // The crash: the worker and the store go away while "ship" is in flight.
    Store second = kit.reopen().block(T);
    Workflow<String, String> again = second.runs().register(checkout.get()).block(T);
    clock.advance(Duration.ofMinutes(5));   // past the dead worker's lease

    StepVerifier.create(kit.awaitEnd(again, again.run(run.runId())))
        .expectNext("payment-1/shipped")
        .expectComplete()
        .verify(T);
    assertThat(charges).as("the recorded step is not run again").hasValue(1);
    List<StepInfo> steps = kit.steps(run.runId()).collectList().block(T);
    assertThat(steps).extracting(StepInfo::stepId).containsExactly("charge", "ship");
  }

  private volatile Store storeOfFirstLife;

  @Test
  void theClockRefusesToGoBack() {
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1))).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> clock.set(clock.instant().minusSeconds(60))).isInstanceOf(InvalidArgumentException.class);
    clock.set(clock.instant().plus(Duration.ofDays(1)));
    assertThat(clock.offset()).isGreaterThanOrEqualTo(Duration.ofHours(23));
  }
}
