package io.pgqrs.sqlite;

import io.pgqrs.Capabilities;
import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.internal.Dsns;
import io.pgqrs.spi.StoreDriver;
import io.pgqrs.spi.StoreDriverProvider;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Opens the Turso store: the SQLite dialect over the Hrana protocol (HTTP, {@code /v2/pipeline}),
 * for Turso Cloud, sqld and {@code tursodb --sync-server}.
 *
 * <p>DSNs: {@code turso://host[:port][/prefix]} and {@code libsql://host[:port][/prefix]} use
 * HTTPS unless {@code ?tls=false}; {@code turso:http://host:port} and
 * {@code turso:https://host[:port]} (also with {@code libsql:}, or a bare {@code http(s)://} URL)
 * name the URL as it is. Parameters:
 * {@code auth_token} (or {@code authToken}), sent as a bearer token, and {@code tls}; any other
 * is refused. {@code connectTimeout} bounds the TCP connect; connecting runs {@code SELECT 1}.
 * The schema option does not apply: the database is the namespace.
 */
public final class TursoDriverProvider implements StoreDriverProvider {

  private static final Capabilities CAPABILITIES = new Capabilities("turso", false, false, true, false, false);

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public TursoDriverProvider() {}

  @Override
  public boolean supports(String backend) {
    return "turso".equals(backend);
  }

  /** Where a DSN points: the base URL (no trailing slash, no query) and the token, if any. */
  record Endpoint(String url, @Nullable String authToken) {

    /** The database for messages: the URL, which never carries the token. */
    String description() {
      return "Turso database at " + url;
    }

    @Override
    public String toString() {
      return "Endpoint[url=" + url + ", authToken=" + (authToken == null ? "none" : "****") + "]";
    }
  }

  static Endpoint parse(PgqrsConfig config) {
    String dsn = config.dsn();
    String masked = Dsns.mask(dsn);
    int q = dsn.indexOf('?');
    String location = q < 0 ? dsn : dsn.substring(0, q);
    String lower = location.toLowerCase(Locale.ROOT);
    String prefix = lower.startsWith("turso:") ? "turso:" : lower.startsWith("libsql:") ? "libsql:"
        : lower.startsWith("http://") || lower.startsWith("https://") ? "" : null;
    if (prefix == null) {
      throw new ConfigurationException("dsn", "not a Turso dsn: '" + masked + "'");
    }
    String rest = location.substring(prefix.length());
    String restLower = rest.toLowerCase(Locale.ROOT);
    boolean explicitUrl = restLower.startsWith("http://") || restLower.startsWith("https://");
    if (!explicitUrl && !rest.startsWith("//")) {
      throw new ConfigurationException("dsn", "malformed Turso dsn '" + masked
          + "': use turso://host:port, libsql://host, turso:http://host:port or https://host;"
          + " a local database file is opened with sqlite:path (the same file format)");
    }
    @Nullable String token = null;
    @Nullable Boolean tls = null;
    for (Map.Entry<String, String> p : config.dsnParameters().entrySet()) {
      switch (p.getKey()) {
        case "auth_token", "authToken" -> {
          if (token != null) {
            throw new ConfigurationException("dsn", "the dsn gives the auth token twice");
          }
          token = p.getValue();
          if (token.isBlank() || token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new ConfigurationException("dsn", "auth_token must be printable ASCII without spaces");
          }
        }
        case "tls" -> tls = switch (p.getValue().toLowerCase(Locale.ROOT)) {
          case "true", "1", "yes", "on" -> Boolean.TRUE;
          case "false", "0", "no", "off" -> Boolean.FALSE;
          default -> throw new ConfigurationException("dsn", "tls must be true or false, got '" + p.getValue() + "'");
        };
        default -> throw new ConfigurationException("dsn", "unknown dsn parameter '" + p.getKey()
            + "': Turso DSNs accept auth_token (or authToken) and tls");
      }
    }
    String url;
    if (explicitUrl) {
      if (tls != null) {
        throw new ConfigurationException("dsn", "tls does not apply to '" + masked
            + "': the URL names http or https itself");
      }
      url = rest;
    } else {
      url = (tls == null || tls ? "https:" : "http:") + rest;
    }
    return new Endpoint(checkUrl(url, masked), token);
  }

  /** Checks a base URL: http(s), a host, an optional port and path, nothing else. */
  private static String checkUrl(String url, String masked) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new ConfigurationException("dsn", "malformed dsn '" + masked + "': " + e.getReason());
    }
    if (uri.getRawUserInfo() != null) {
      throw new ConfigurationException("dsn", "dsn '" + masked
          + "' carries credentials before the host: pass the token as ?auth_token=...");
    }
    if (uri.getRawFragment() != null) {
      throw new ConfigurationException("dsn", "dsn '" + masked + "' has a fragment");
    }
    try {
      Dsns.hostPort(uri);
    } catch (ConfigurationException e) {
      throw new ConfigurationException("dsn", "invalid dsn '" + masked + "': " + e.getMessage());
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return scheme + "://" + uri.getRawAuthority() + path;
  }

  @Override
  public Mono<StoreDriver> open(PgqrsConfig config) {
    return Mono.defer(() -> {
      Endpoint endpoint = parse(config);
      String where = endpoint.description();
      return HranaExecutor.connect(endpoint.url(), endpoint.authToken(), where, config.connectTimeout(),
              HranaExecutor.DEFAULT_REQUEST_TIMEOUT)
          .map(executor -> new SqliteDriver(executor, CAPABILITIES, where));
    });
  }
}
