package io.pgqrs.cli;

import io.pgqrs.internal.Dsns;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Masks secrets in text the tool prints: the DSN it was given (by the engine's own masking) and,
 * for text the tool did not write (a parser message that echoes a mistyped option, a driver's
 * error), the password of any URL and any {@code password=} or {@code auth_token=} parameter.
 */
final class Secrets {

  /** {@code scheme://user:password@}: the password is what lies between the user's colon and the {@code @}. */
  private static final Pattern URL_PASSWORD =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^\\s:/?#@'\"]*):[^\\s'\"]*@");
  private static final Pattern SECRET_PARAMETER = Pattern.compile("(?i)(auth_?token|password)=[^&\\s'\"]*");

  private Secrets() {}

  static String mask(String text, @Nullable String dsn) {
    String masked = text;
    if (dsn != null && !dsn.isEmpty()) {
      masked = masked.replace(dsn, Dsns.mask(dsn));
    }
    masked = URL_PASSWORD.matcher(masked).replaceAll("$1:****@");
    return SECRET_PARAMETER.matcher(masked).replaceAll("$1=****");
  }

  static String maskedDsn(String dsn) {
    return Dsns.mask(dsn);
  }
}
