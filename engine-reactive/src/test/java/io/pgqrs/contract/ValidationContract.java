package io.pgqrs.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.queue.NewMessage;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.RateLimit;
import io.pgqrs.queue.RateLimitedException;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.queue.ValidationRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Payload validation and rate limits as seen through a producer: refused input inserts nothing. */
public abstract class ValidationContract extends StoreContract {

  private void assertEmpty(String queue) {
    assertThat(store.queues().metrics(queue).block(T).live()).as("nothing inserted").isZero();
  }

  @Test
  void payloadThatIsNotAnObjectIsRefused() {
    String q = newQueue();
    Producer p = producer(q);
    for (Object bad : List.of("just a string", 42, List.of(1, 2), JsonNodeFactory.instance.nullNode())) {
      StepVerifier.create(p.enqueue(bad))
          .expectErrorSatisfies(e -> {
            assertThat(e).isInstanceOf(ValidationException.class);
            assertThat(((ValidationException) e).rule()).isEqualTo(ValidationException.Rule.NOT_AN_OBJECT);
          })
          .verify(T);
    }
    assertEmpty(q);
  }

  @Test
  void batchWithOneBadPayloadInsertsNothingAndNamesItsIndex() {
    String q = newQueue();
    Producer p = store.producer(q).validation(ValidationRules.defaults().withRequiredKeys(Set.of("n"))).build();
    List<Object> batch = new ArrayList<>(List.of(payload(0), payload(1), Map.of("other", 1), payload(3)));
    StepVerifier.create(p.enqueuePayloads(batch))
        .expectErrorSatisfies(e -> {
          ValidationException v = (ValidationException) e;
          assertThat(v.index()).isEqualTo(2);
          assertThat(v.rule()).isEqualTo(ValidationException.Rule.REQUIRED_KEY);
          assertThat(v.getMessage()).contains("payload 2").contains("REQUIRED_KEY");
          assertThat(v.queue()).isEqualTo(q);
        })
        .verify(T);
    assertEmpty(q);
  }

  @Test
  void everyRuleIsEnforced() {
    String q = newQueue();
    ValidationRules rules = ValidationRules.defaults().withMaxBytes(200).withMaxDepth(3).withMaxStringLength(20)
        .withForbiddenKeys(Set.of("password"));
    Producer p = store.producer(q).validation(rules).build();
    ObjectNode deep = JsonNodeFactory.instance.objectNode();
    deep.putObject("a").putObject("b").putObject("c");
    Map<Object, ValidationException.Rule> cases = Map.of(
        Map.of("big", "x".repeat(19), "more", "y".repeat(19), "m2", "z".repeat(19), "m3", "w".repeat(19),
            "m4", "v".repeat(19), "m5", "u".repeat(19), "m6", "t".repeat(19), "m7", "s".repeat(19),
            "m8", "r".repeat(19), "m9", "q".repeat(19)), ValidationException.Rule.MAX_SIZE,
        deep, ValidationException.Rule.MAX_DEPTH,
        Map.of("s", "x".repeat(21)), ValidationException.Rule.MAX_STRING_LENGTH,
        Map.of("password", "hunter2"), ValidationException.Rule.FORBIDDEN_KEY);
    cases.forEach((payload, rule) -> StepVerifier.create(p.enqueue(payload))
        .expectErrorSatisfies(e -> assertThat(((ValidationException) e).rule()).isEqualTo(rule))
        .verify(T));
    assertEmpty(q);
    StepVerifier.create(p.enqueue(Map.of("ok", "fine"))).expectNextCount(1).expectComplete().verify(T);
  }

  @Test
  void defaultRulesRefuseAPayloadAboveOneMebibyte() {
    String q = newQueue();
    StepVerifier.create(producer(q).enqueue(Map.of("blob", "x".repeat(ValidationRules.DEFAULT_MAX_BYTES))))
        .expectErrorSatisfies(e -> assertThat(((ValidationException) e).rule())
            .isEqualTo(ValidationException.Rule.MAX_SIZE))
        .verify(T);
    assertEmpty(q);
  }

  @Test
  void rateLimitRefusesBeyondTheBurstAndInsertsNothing() {
    String q = newQueue();
    Producer p = store.producer(q).rateLimit(new RateLimit(0.001, 3)).build();
    p.enqueuePayloads(List.of(payload(1), payload(2))).block(T);
    StepVerifier.create(p.enqueuePayloads(List.of(payload(3), payload(4))))
        .expectErrorSatisfies(e -> {
          RateLimitedException r = (RateLimitedException) e;
          assertThat(r.isTransient()).isTrue();
          assertThat(r.retryAfter()).isPositive();
          assertThat(r.queue()).isEqualTo(q);
        })
        .verify(T);
    assertThat(store.queues().metrics(q).block(T).live()).isEqualTo(2);
    StepVerifier.create(p.enqueue(payload(5))).expectNextCount(1).expectComplete().verify(T);
    StepVerifier.create(p.enqueue(payload(6))).expectError(RateLimitedException.class).verify(T);
  }

  @Test
  void aBatchLargerThanTheBurstIsAPermanentErrorThatTakesNoPermits() {
    String q = newQueue();
    Producer p = store.producer(q).rateLimit(new RateLimit(0.001, 3)).build();
    StepVerifier.create(p.enqueuePayloads(List.of(payload(1), payload(2), payload(3), payload(4))))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(io.pgqrs.InvalidArgumentException.class);
          assertThat(((io.pgqrs.InvalidArgumentException) e).isTransient()).isFalse();
          assertThat(((io.pgqrs.InvalidArgumentException) e).argument()).isEqualTo("messages");
          assertThat(e.getMessage()).contains("burst of 3");
        })
        .verify(T);
    assertEmpty(q);
    // The refused batch spent nothing: the whole burst is still there.
    StepVerifier.create(p.enqueuePayloads(List.of(payload(1), payload(2), payload(3))))
        .assertNext(ids -> assertThat(ids).hasSize(3)).expectComplete().verify(T);
  }

  @Test
  void producersAreIndependentAndRateLimitCanBeDisabled() {
    String q = newQueue();
    Producer limited = store.producer(q).rateLimit(new RateLimit(0.001, 1)).build();
    Producer unlimited = store.producer(q).rateLimit(null).build();
    limited.enqueue(payload(1)).block(T);
    StepVerifier.create(limited.enqueue(payload(2))).expectError(RateLimitedException.class).verify(T);
    List<NewMessage> many = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      many.add(NewMessage.of(payload(i)));
    }
    StepVerifier.create(unlimited.enqueueBatch(many)).assertNext(ids -> assertThat(ids).hasSize(100))
        .expectComplete().verify(T);
  }
}
