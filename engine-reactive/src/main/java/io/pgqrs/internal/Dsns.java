package io.pgqrs.internal;

import io.pgqrs.ConfigurationException;
import java.net.URI;
import java.net.URISyntaxException;
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
   * The user and password of a URL-style DSN, still percent-encoded.
   *
   * @param rawUser the user name
   * @param rawPassword the password, or null if none was given
   */
  public record Credentials(String rawUser, @Nullable String rawPassword) {
    @Override
    public String toString() {
      return "Credentials[rawUser=" + rawUser + (rawPassword == null ? "" : ", rawPassword=****") + "]";
    }
  }

  /**
   * Masks the password and any auth token of a DSN, for logs and error messages. It masks from
   * the first {@code :} after {@code ://} to the last {@code @} of the whole DSN, so a password
   * holding a raw {@code /}, {@code ?}, {@code #} or {@code @} is masked whole; when the last
   * {@code @} is in a query value, more than the password is masked, never less. It also masks
   * {@code password=} and {@code auth_token=} parameters.
   *
   * @param dsn the DSN
   * @return the DSN with secrets replaced by {@code ****}
   */
  public static String mask(String dsn) {
    String masked = dsn;
    int scheme = dsn.indexOf("://");
    if (scheme >= 0) {
      int authorityStart = scheme + 3;
      int at = dsn.lastIndexOf('@');
      if (at >= authorityStart) {
        int colon = dsn.indexOf(':', authorityStart);
        if (colon > 0 && colon < at) {
          masked = dsn.substring(0, colon + 1) + "****" + dsn.substring(at);
        }
      }
    }
    return masked.replaceAll("(?i)(auth_?token|password)=[^&#]*", "$1=****");
  }

  /**
   * Refuses a DSN whose password holds a raw {@code /}, {@code ?} or {@code #}: a URL ends its
   * authority there, so the rest of the password would be read as path, query or fragment (and
   * could end up in a message as a database or parameter name). It is recognised by an
   * {@code @} after the authority while the authority itself has none and names no valid port.
   *
   * @param dsn the DSN
   * @throws ConfigurationException naming {@code dsn}, with the DSN masked, if so
   */
  public static void checkCredentialsEncoded(String dsn) {
    int scheme = dsn.indexOf("://");
    if (scheme < 0) {
      return;
    }
    int authorityStart = scheme + 3;
    int authorityEnd = authorityEnd(dsn, authorityStart);
    String authority = dsn.substring(authorityStart, authorityEnd);
    String rest = dsn.substring(authorityEnd);
    if (authority.indexOf('@') >= 0 || rest.indexOf('@') < 0) {
      return;
    }
    int colon = authority.lastIndexOf(':');
    boolean authorityIsHostPort = colon < 0 || authority.substring(colon + 1).matches("[0-9]{1,5}");
    int pathEnd = authorityEnd(rest, 1);
    boolean atInPath = rest.startsWith("/") && rest.substring(0, pathEnd).indexOf('@') >= 0;
    if (authority.indexOf(':') >= 0 && (!authorityIsHostPort || atInPath)) {
      throw new ConfigurationException("dsn", "dsn '" + mask(dsn) + "' looks like its password holds a raw '/', '?'"
          + " or '#': percent-encode them in the password (%2F, %3F, %23), and '@' in parameter values (%40)");
    }
  }

  /**
   * Parses a URL-style DSN.
   *
   * @param dsn the DSN
   * @return the URI
   * @throws ConfigurationException naming {@code dsn}, with the DSN masked, if it is not a URI
   */
  public static URI parse(String dsn) {
    try {
      return new URI(dsn);
    } catch (URISyntaxException e) {
      // The exception's message quotes the whole input, password included: only its reason is kept.
      throw new ConfigurationException("dsn", "malformed dsn '" + mask(dsn) + "': " + e.getReason());
    }
  }

  /**
   * The user and password of a URL-style DSN: what precedes the authority's last {@code @}.
   *
   * @param dsn the DSN
   * @return the credentials, or null if the DSN names no user
   */
  public static @Nullable Credentials credentials(String dsn) {
    String userInfo = parse(dsn).getRawUserInfo();
    if (userInfo == null) {
      // A registry-based authority (a host name with '_', say): split it by hand.
      String authority = parse(dsn).getRawAuthority();
      int at = authority == null ? -1 : authority.lastIndexOf('@');
      userInfo = at < 0 ? null : authority.substring(0, at);
    }
    if (userInfo == null || userInfo.isEmpty()) {
      return null;
    }
    int colon = userInfo.indexOf(':');
    return colon < 0 ? new Credentials(userInfo, null)
        : new Credentials(userInfo.substring(0, colon), userInfo.substring(colon + 1));
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
