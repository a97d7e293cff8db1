package io.pgqrs.internal;

import io.pgqrs.ConfigurationException;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/** DSN text helpers. Not part of the public API. */
public final class Dsns {

  private Dsns() {}

  /**
   * Host and port of a URL-style DSN.
   *
   * @param host the host name or address, without IPv6 brackets
   * @param port the port, or -1 if none was given
   */
  public record HostPort(String host, int port) {}

  /**
   * Masks the password and any auth token of a DSN, for logs and error messages. Only the
   * authority's password and {@code password=} / {@code auth_token=} parameters are touched.
   *
   * @param dsn the DSN
   * @return the DSN with secrets replaced by {@code ****}
   */
  public static String mask(String dsn) {
    String masked = dsn;
    int scheme = dsn.indexOf("://");
    if (scheme >= 0) {
      int authorityStart = scheme + 3;
      int authorityEnd = authorityEnd(dsn, authorityStart);
      int at = dsn.lastIndexOf('@', authorityEnd - 1);
      if (at >= authorityStart) {
        int colon = dsn.indexOf(':', authorityStart);
        if (colon > 0 && colon < at) {
          masked = dsn.substring(0, colon + 1) + "****" + dsn.substring(at);
        }
      }
    }
    return masked.replaceAll("(?i)(auth_?token|password)=[^&]*", "$1=****");
  }

  private static int authorityEnd(String dsn, int from) {
    int end = dsn.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = dsn.indexOf(c, from);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    return end;
  }

  /**
   * Reads host and port from a URI's raw authority. {@link URI#getHost()} refuses host names with
   * underscores (common for container names), so the authority is split by hand.
   *
   * @param uri the parsed DSN
   * @return host and port
   * @throws ConfigurationException naming {@code dsn} if there is no host or the port is invalid
   */
  public static HostPort hostPort(URI uri) {
    String authority = uri.getRawAuthority();
    if (authority == null) {
      throw new ConfigurationException("dsn", "dsn names no host");
    }
    String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
    String host;
    @Nullable String port = null;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw new ConfigurationException("dsn", "dsn has an unterminated IPv6 address");
      }
      host = hostPort.substring(1, close);
      if (hostPort.length() > close + 1) {
        if (hostPort.charAt(close + 1) != ':') {
          throw new ConfigurationException("dsn", "dsn has text after its IPv6 address");
        }
        port = hostPort.substring(close + 2);
      }
    } else {
      int colon = hostPort.lastIndexOf(':');
      host = colon < 0 ? hostPort : hostPort.substring(0, colon);
      port = colon < 0 ? null : hostPort.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new ConfigurationException("dsn", "dsn names no host");
    }
    int portNumber = -1;
    if (port != null && !port.isEmpty()) {
      try {
        portNumber = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        portNumber = 0;
      }
      if (portNumber < 1 || portNumber > 65535) {
        throw new ConfigurationException("dsn", "dsn port '" + port + "' is not a number from 1 to 65535");
      }
    }
    return new HostPort(host, portNumber);
  }
}
