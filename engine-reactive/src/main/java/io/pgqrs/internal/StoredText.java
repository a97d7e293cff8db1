package io.pgqrs.internal;

import io.pgqrs.InvalidArgumentException;
import org.jspecify.annotations.Nullable;

/**
 * The one check of text on its way to the store. No backend keeps every Java string exactly:
 * PostgreSQL text cannot hold NUL (U+0000) and jsonb refuses {@code \u0000}, and every backend
 * encodes to UTF-8, where a surrogate that is not half of a pair has no encoding and silently
 * becomes {@code '?'}. So two keys that differ only there would be stored as one. Strings the
 * caller gives are refused ({@link #check}); text the engine writes itself (error texts) is
 * repaired ({@link #sanitize}).
 */
final class StoredText {

  /** What stands in for a character no store can keep, in text the engine writes itself. */
  static final char REPLACEMENT = '\uFFFD';

  private StoredText() {}

  /**
   * The index of the first character no store keeps exactly: a NUL, or a surrogate that is not
   * half of a pair. One pass, no allocation.
   *
   * @param text the text
   * @return the index, or -1 if every character is kept exactly
   */
  static int unstorableAt(CharSequence text) {
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      // Every character below the surrogates but NUL is kept: one comparison in the common case.
      if (c > 0 && c < Character.MIN_SURROGATE) {
        continue;
      }
      if (c == 0) {
        return i;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * What is wrong at an index {@link #unstorableAt} returned, for error messages.
   *
   * @param text the text
   * @param at the index
   * @return for example {@code "a lone surrogate U+D800 at index 3"}
   */
  static String describe(CharSequence text, int at) {
    char c = text.charAt(at);
    return c == 0
        ? "a NUL character (U+0000) at index " + at
        : String.format("a lone surrogate U+%04X at index %d", (int) c, at);
  }

  /**
   * Refuses a caller's string that the store cannot keep exactly.
   *
   * @param field the argument's name, for the error
   * @param value the string; null passes (nullness is the caller's own check)
   * @return the value
   * @throws InvalidArgumentException naming {@code field} if the value holds a NUL or a lone surrogate
   */
  static @Nullable String check(String field, @Nullable String value) {
    if (value != null) {
      int at = unstorableAt(value);
      if (at >= 0) {
        throw new InvalidArgumentException(field, field + " holds " + describe(value, at)
            + ", which the store cannot keep exactly; use well-formed text without NUL");
      }
    }
    return value;
  }

  /**
   * Text the engine writes itself (an exception's message, say) made storable: each lone surrogate
   * and each NUL becomes U+FFFD, so the text is kept (marked where it was damaged), never refused.
   *
   * @param text the text
   * @return the text itself when it is storable, else a repaired copy
   */
  static String sanitize(String text) {
    int at = unstorableAt(text);
    if (at < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length()).append(text, 0, at);
    for (int i = at; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        out.append(c).append(text.charAt(++i));
      } else if (c == 0 || Character.isSurrogate(c)) {
        out.append(REPLACEMENT);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
