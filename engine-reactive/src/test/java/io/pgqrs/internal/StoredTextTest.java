package io.pgqrs.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** Pure tests of the one check of text on its way to the store. */
class StoredTextTest {

  @Test
  void wellFormedTextIsStorableAndPairsAreKeptTogether() {
    assertThat(StoredText.unstorableAt("")).isEqualTo(-1);
    assertThat(StoredText.unstorableAt("plain ascii, é, 中文")).isEqualTo(-1);
    assertThat(StoredText.unstorableAt("emoji \uD83D\uDE00 end")).isEqualTo(-1);
    assertThat(StoredText.unstorableAt("\uD83D\uDE00")).isEqualTo(-1);
  }

  @Test
  void nulAndLoneSurrogatesAreFoundAtTheirIndex() {
    assertThat(StoredText.unstorableAt("a\u0000b")).isEqualTo(1);
    assertThat(StoredText.unstorableAt("ab\uD800")).as("high at the end").isEqualTo(2);
    assertThat(StoredText.unstorableAt("\uD800x")).as("high before a non-surrogate").isZero();
    assertThat(StoredText.unstorableAt("x\uDC00")).as("low without a high").isEqualTo(1);
    assertThat(StoredText.unstorableAt("\uDE00\uD83D")).as("a pair the wrong way round").isZero();
    assertThat(StoredText.unstorableAt("\uD83D\uD83D\uDE00")).as("two highs, then a low").isZero();
  }

  @Test
  void checkRefusesNamingTheFieldAndPassesGoodText() {
    assertThat(StoredText.check("key", "fine \uD83D\uDE00")).isEqualTo("fine \uD83D\uDE00");
    assertThat(StoredText.check("key", null)).isNull();
    assertThatThrownBy(() -> StoredText.check("idempotencyKey", "k\uD800"))
        .isInstanceOfSatisfying(InvalidArgumentException.class, e -> {
          assertThat(e.argument()).isEqualTo("idempotencyKey");
          assertThat(e.getMessage()).contains("lone surrogate U+D800 at index 1");
        });
    assertThatThrownBy(() -> StoredText.check("reason", "r\u0000"))
        .isInstanceOfSatisfying(InvalidArgumentException.class,
            e -> assertThat(e.getMessage()).contains("NUL character (U+0000) at index 1"));
  }

  @Test
  void sanitizeReplacesEachUnstorableCharacterAndKeepsPairs() {
    String clean = "nothing to do \uD83D\uDE00";
    assertThat(StoredText.sanitize(clean)).isSameAs(clean);
    assertThat(StoredText.sanitize("a\u0000b\uD800c\uDC00\uD83D\uDE00\uD83D"))
        .isEqualTo("a\uFFFDb\uFFFDc\uFFFD\uD83D\uDE00\uFFFD");
    assertThat(StoredText.unstorableAt(StoredText.sanitize("\uDE00\uD83D\u0000"))).isEqualTo(-1);
  }
}
