package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.NewMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Pure tests of the {@link NewMessage} record. */
class NewMessageTest {

  private static final Map<String, Object> PAYLOAD = Map.of("k", "v");
  private static final Instant AT = Instant.parse("2030-01-01T00:00:00Z");

  private static InvalidArgumentException argumentError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(InvalidArgumentException.class);
    return (InvalidArgumentException) thrown;
  }

  @Test
  void ofGivesAnImmediateMessageWithoutDedupKeyAndPriorityZero() {
    NewMessage m = NewMessage.of(PAYLOAD);

    assertThat(m.payload()).isSameAs(PAYLOAD);
    assertThat(m.delay()).isNull();
    assertThat(m.visibleAt()).isNull();
    assertThat(m.dedupKey()).isNull();
    assertThat(m.priority()).isZero();
  }

  @Test
  void nullPayloadIsRejected() {
    assertThatNullPointerException().isThrownBy(() -> NewMessage.of(null)).withMessageContaining("payload");
    assertThatNullPointerException().isThrownBy(() -> new NewMessage(null, null, null, null, 0));
  }

  @Test
  void negativeDelayIsRejectedNamingDelay() {
    assertThat(argumentError(() -> new NewMessage(PAYLOAD, Duration.ofMillis(-1), null, null, 0)).argument())
        .isEqualTo("delay");
  }

  @Test
  void negativeDelayViaWithDelayIsRejectedNamingDelay() {
    NewMessage m = NewMessage.of(PAYLOAD);

    assertThat(argumentError(() -> m.withDelay(Duration.ofNanos(-1))).argument()).isEqualTo("delay");
  }

  @Test
  void delayAndInstantTogetherAreRejectedNamingDelay() {
    InvalidArgumentException e =
        argumentError(() -> new NewMessage(PAYLOAD, Duration.ofSeconds(1), AT, null, 0));

    assertThat(e.argument()).isEqualTo("delay");
  }

  @Test
  void zeroDelayAndPastInstantAreAccepted() {
    assertThat(NewMessage.of(PAYLOAD).withDelay(Duration.ZERO).delay()).isZero();
    assertThat(NewMessage.of(PAYLOAD).withVisibleAt(Instant.EPOCH).visibleAt()).isEqualTo(Instant.EPOCH);
  }

  @Test
  void withDelayReturnsACopyLeavingTheOriginalUnchanged() {
    NewMessage original = NewMessage.of(PAYLOAD).withDedupKey("k1").withPriority(3);

    NewMessage delayed = original.withDelay(Duration.ofSeconds(5));

    assertThat(delayed).isNotSameAs(original);
    assertThat(delayed.delay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(delayed.dedupKey()).isEqualTo("k1");
    assertThat(delayed.priority()).isEqualTo(3);
    assertThat(delayed.payload()).isSameAs(PAYLOAD);
    assertThat(original.delay()).isNull();
  }

  @Test
  void withVisibleAtReturnsACopyLeavingTheOriginalUnchanged() {
    NewMessage original = NewMessage.of(PAYLOAD).withPriority(2);

    NewMessage scheduled = original.withVisibleAt(AT);

    assertThat(scheduled.visibleAt()).isEqualTo(AT);
    assertThat(scheduled.priority()).isEqualTo(2);
    assertThat(original.visibleAt()).isNull();
  }

  @Test
  void withVisibleAtReplacesAnEarlierDelay() {
    NewMessage delayed = NewMessage.of(PAYLOAD).withDelay(Duration.ofSeconds(5));

    NewMessage scheduled = delayed.withVisibleAt(AT);

    assertThat(scheduled.visibleAt()).isEqualTo(AT);
    assertThat(scheduled.delay()).isNull();
    assertThat(delayed.delay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(delayed.visibleAt()).isNull();
  }

  @Test
  void withDelayReplacesAnEarlierInstant() {
    NewMessage scheduled = NewMessage.of(PAYLOAD).withVisibleAt(AT);

    NewMessage delayed = scheduled.withDelay(Duration.ofSeconds(5));

    assertThat(delayed.delay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(delayed.visibleAt()).isNull();
    assertThat(scheduled.visibleAt()).isEqualTo(AT);
  }

  @Test
  void withDedupKeyReturnsACopyKeepingTheOtherFields() {
    NewMessage original = NewMessage.of(PAYLOAD).withDelay(Duration.ofSeconds(1)).withPriority(-4);

    NewMessage keyed = original.withDedupKey("order-42");

    assertThat(keyed.dedupKey()).isEqualTo("order-42");
    assertThat(keyed.delay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(keyed.priority()).isEqualTo(-4);
    assertThat(original.dedupKey()).isNull();
  }

  @Test
  void withPriorityReturnsACopyKeepingTheOtherFields() {
    NewMessage original = NewMessage.of(PAYLOAD).withVisibleAt(AT).withDedupKey("k");

    NewMessage urgent = original.withPriority(Integer.MAX_VALUE);

    assertThat(urgent.priority()).isEqualTo(Integer.MAX_VALUE);
    assertThat(urgent.visibleAt()).isEqualTo(AT);
    assertThat(urgent.dedupKey()).isEqualTo("k");
    assertThat(original.priority()).isZero();
  }

  @Test
  void aTemplateCanBeReusedForSeveralVariants() {
    NewMessage template = NewMessage.of(PAYLOAD).withPriority(1);

    NewMessage a = template.withDedupKey("a");
    NewMessage b = template.withDedupKey("b");

    assertThat(a.dedupKey()).isEqualTo("a");
    assertThat(b.dedupKey()).isEqualTo("b");
    assertThat(template).isEqualTo(NewMessage.of(PAYLOAD).withPriority(1));
  }
}
