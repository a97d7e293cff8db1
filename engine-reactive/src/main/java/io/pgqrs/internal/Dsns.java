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
   * Masks the password and any auth token of a DSN, for logs and error messages: the text from the
   * first {@code :} after {@code ://} to the {@code @} that ends the credentials (see
   * {@link #credentialsEnd}), and {@code password=} and {@code auth_token=} parameters. A password
   * holding a raw {@code /}, {@code ?}, {@code #} or {@code @} is masked whole, even where that
   * masks more than the password.
   *
   * @param dsn the DSN
   * @return the DSN with secrets replaced by {@code ****}
   */
  public static String mask(String dsn) {
    String masked = dsn;
    int at = credentialsEnd(dsn);
    if (at >= 0) {
      int colon = dsn.indexOf(':', dsn.indexOf("://") + 3);
      if (colon > 0 && colon < at) {
        masked = dsn.substring(0, colon + 1) + "****" + dsn.substring(at);
      }
    }
    return masked.replaceAll("(?i)(auth_?token|password)=[^&]*", "$1=****");
  }

  /**
   * Where the credentials of a URL-style DSN end: the {@code @} before the host, or -1 if there
   * are none. A URL's authority ends at the first {@code /}, {@code ?} or {@code #}, so a password
   * holding one of them raw splits the URL; such a split is recognised by what it leaves behind:
   * an {@code @} after the authority where the rest does not read as one database and parameters
   * (an {@code @} in the path or fragment, a path of other than one segment, an {@code @host/db}
   * in a parameter), or an authority without {@code @} that is no host and port. Then the
   * credentials end at the DSN's last {@code @}.
   */
  private static int credentialsEnd(String dsn) {
    int scheme = dsn.indexOf("://");
    if (scheme < 0) {
      return -1;
    }
    if (splitsTheUrl(dsn)) {
      return dsn.lastIndexOf('@');
    }
    int authorityStart = scheme + 3;
    int inAuthority = dsn.substring(authorityStart, authorityEnd(dsn, authorityStart)).lastIndexOf('@');
    return inAuthority < 0 ? -1 : authorityStart + inAuthority;
  }

  /** Whether the DSN's credentials seem to hold a raw {@code /}, {@code ?} or {@code #}. */
  private static boolean splitsTheUrl(String dsn) {
    int scheme = dsn.indexOf("://");
    if (scheme < 0) {
      return false;
    }
    int authorityStart = scheme + 3;
    int authorityEnd = authorityEnd(dsn, authorityStart);
    String authority = dsn.substring(authorityStart, authorityEnd);
    String rest = dsn.substring(authorityEnd);
    if (rest.indexOf('@') < 0) {
      return false;
    }
    int fragment = rest.indexOf('#');
    int query = rest.indexOf('?');
    if (fragment >= 0 && (query < 0 || fragment < query)) {
      query = -1;
    }
    int pathEnd = query >= 0 ? query : fragment >= 0 ? fragment : rest.length();
    String path = rest.substring(0, pathEnd);
    boolean oneDatabase = path.length() > 1 && path.startsWith("/") && path.indexOf('/', 1) < 0
        && path.indexOf('@') < 0;
    boolean atInFragment = fragment >= 0 && rest.indexOf('@', fragment) >= 0;
    boolean hostInQuery = query >= 0
        && rest.substring(query, fragment > query ? fragment : rest.length()).matches(".*@[^&]*/.*");
    if (!oneDatabase || atInFragment || hostInQuery) {
      return true;
    }
    if (authority.indexOf('@') >= 0) {
      return false;
    }
    int colon = authority.lastIndexOf(':');
    return colon >= 0 && !authority.substring(colon + 1).matches("[0-9]{1,5}");
  }

  /**
   * Refuses a DSN whose password holds a raw {@code /}, {@code ?} or {@code #}: a URL ends its
   * authority there, so the rest of the password would be read as path, query or fragment (and
   * could end up in a message as a database or parameter name).
   *
   * @param dsn the DSN
   * @throws ConfigurationException naming {@code dsn}, with the DSN masked, if so
   */
  public static void checkCredentialsEncoded(String dsn) {
    if (splitsTheUrl(dsn)) {
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
    URI uri = parse(dsn);
    String userInfo = uri.getRawUserInfo();
    if (userInfo == null) {
      // A registry-based authority (a host name with '_', say): split it by hand.
      String authority = uri.getRawAuthority();
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
