package io.pgqrs.internal;

/** DSN text helpers. Not part of the public API. */
public final class Dsns {

  private Dsns() {}

  /**
   * Masks the password and any auth token of a DSN, for logs and error messages.
   *
   * @param dsn the DSN
   * @return the DSN with secrets replaced by {@code ****}
   */
  public static String mask(String dsn) {
    String masked = dsn;
    int scheme = dsn.indexOf("://");
    int at = dsn.lastIndexOf('@');
    if (scheme >= 0 && at > scheme) {
      int colon = dsn.indexOf(':', scheme + 3);
      if (colon > 0 && colon < at) {
        masked = dsn.substring(0, colon + 1) + "****" + dsn.substring(at);
      }
    }
    return masked.replaceAll("(?i)(auth_?token|password)=[^&]*", "$1=****");
  }
}
