package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.queue.ValidationRules;
import java.util.HashSet;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Pure tests of the {@link ValidationRules} record. */
class ValidationRulesTest {

  private static InvalidArgumentException argumentError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(InvalidArgumentException.class);
    return (InvalidArgumentException) thrown;
  }

  @Test
  void defaultsAreOneMebibyteDepth32AndNoKeyRules() {
    ValidationRules rules = ValidationRules.defaults();

    assertThat(rules.maxBytes()).isEqualTo(1024 * 1024).isEqualTo(ValidationRules.DEFAULT_MAX_BYTES);
    assertThat(rules.maxDepth()).isEqualTo(32).isEqualTo(ValidationRules.DEFAULT_MAX_DEPTH);
    assertThat(rules.maxStringLength()).isEqualTo(ValidationRules.DEFAULT_MAX_BYTES);
    assertThat(rules.forbiddenKeys()).isEmpty();
    assertThat(rules.requiredKeys()).isEmpty();
  }

  private static Arguments invalid(String argument, int value, UnaryOperator<ValidationRules> change) {
    return Arguments.of(argument, value, change);
  }

  static Stream<Arguments> limitsBelowOne() {
    return Stream.of(
        invalid("maxBytes", 0, r -> r.withMaxBytes(0)),
        invalid("maxBytes", -1, r -> r.withMaxBytes(-1)),
        invalid("maxBytes", Integer.MIN_VALUE, r -> r.withMaxBytes(Integer.MIN_VALUE)),
        invalid("maxDepth", 0, r -> r.withMaxDepth(0)),
        invalid("maxDepth", -1, r -> r.withMaxDepth(-1)),
        invalid("maxStringLength", 0, r -> r.withMaxStringLength(0)),
        invalid("maxStringLength", -1, r -> r.withMaxStringLength(-1)));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("limitsBelowOne")
  void limitBelowOneIsRejectedNamingTheLimit(String argument, int value, UnaryOperator<ValidationRules> change) {
    ValidationRules defaults = ValidationRules.defaults();

    InvalidArgumentException e = argumentError(() -> change.apply(defaults));

    assertThat(e.argument()).isEqualTo(argument);
    assertThat(e.getMessage()).contains(argument).contains(String.valueOf(value));
  }

  @Test
  void limitsBelowOneAreRejectedByTheCanonicalConstructor() {
    assertThat(argumentError(() -> new ValidationRules(0, 1, 1, Set.of(), Set.of())).argument())
        .isEqualTo("maxBytes");
    assertThat(argumentError(() -> new ValidationRules(1, 0, 1, Set.of(), Set.of())).argument())
        .isEqualTo("maxDepth");
    assertThat(argumentError(() -> new ValidationRules(1, 1, 0, Set.of(), Set.of())).argument())
        .isEqualTo("maxStringLength");
  }

  @Test
  void limitsBeyondWhatTheEngineReadsBackAreRejected() {
    ValidationRules defaults = ValidationRules.defaults();

    assertThat(argumentError(() -> defaults.withMaxDepth(ValidationRules.MAX_READABLE_DEPTH + 1)).argument())
        .isEqualTo("maxDepth");
    assertThat(argumentError(() -> defaults.withMaxStringLength(ValidationRules.MAX_READABLE_STRING_LENGTH + 1))
        .argument()).isEqualTo("maxStringLength");
    assertThat(defaults.withMaxDepth(ValidationRules.MAX_READABLE_DEPTH).maxDepth()).isEqualTo(1000);
    assertThat(defaults.withMaxStringLength(ValidationRules.MAX_READABLE_STRING_LENGTH).maxStringLength())
        .isEqualTo(20_000_000);
  }

  @Test
  void limitsOfOneAreAccepted() {
    ValidationRules rules = new ValidationRules(1, 1, 1, Set.of(), Set.of());

    assertThat(rules.maxBytes()).isEqualTo(1);
    assertThat(rules.maxDepth()).isEqualTo(1);
    assertThat(rules.maxStringLength()).isEqualTo(1);
  }

  @Test
  void withMethodsReturnCopiesLeavingTheOriginalUnchanged() {
    ValidationRules original = ValidationRules.defaults();

    ValidationRules bytes = original.withMaxBytes(100);
    ValidationRules depth = original.withMaxDepth(3);
    ValidationRules length = original.withMaxStringLength(7);
    ValidationRules forbidden = original.withForbiddenKeys(Set.of("password"));
    ValidationRules required = original.withRequiredKeys(Set.of("id"));

    assertThat(original).isEqualTo(ValidationRules.defaults());
    assertThat(bytes.maxBytes()).isEqualTo(100);
    assertThat(bytes.maxDepth()).isEqualTo(original.maxDepth());
    assertThat(depth.maxDepth()).isEqualTo(3);
    assertThat(depth.maxBytes()).isEqualTo(original.maxBytes());
    assertThat(length.maxStringLength()).isEqualTo(7);
    assertThat(forbidden.forbiddenKeys()).containsExactly("password");
    assertThat(forbidden.requiredKeys()).isEmpty();
    assertThat(required.requiredKeys()).containsExactly("id");
    assertThat(required.forbiddenKeys()).isEmpty();
  }

  @Test
  void chainedWithMethodsKeepEarlierChanges() {
    ValidationRules rules = ValidationRules.defaults()
        .withMaxBytes(10)
        .withMaxDepth(2)
        .withMaxStringLength(3)
        .withForbiddenKeys(Set.of("x"))
        .withRequiredKeys(Set.of("y"));

    assertThat(rules).isEqualTo(new ValidationRules(10, 2, 3, Set.of("x"), Set.of("y")));
  }

  @Test
  void keySetsAreCopiedSoLaterChangesToTheArgumentDoNotLeakIn() {
    Set<String> forbidden = new HashSet<>(Set.of("a"));
    Set<String> required = new HashSet<>(Set.of("b"));

    ValidationRules rules = new ValidationRules(10, 2, 3, forbidden, required);
    forbidden.add("c");
    required.clear();

    assertThat(rules.forbiddenKeys()).containsExactly("a");
    assertThat(rules.requiredKeys()).containsExactly("b");
  }

  @Test
  void keySetsAreUnmodifiable() {
    ValidationRules rules = ValidationRules.defaults().withForbiddenKeys(Set.of("a"));

    assertThatThrownBy(() -> rules.forbiddenKeys().add("b")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> rules.requiredKeys().add("b")).isInstanceOf(UnsupportedOperationException.class);
  }
}
