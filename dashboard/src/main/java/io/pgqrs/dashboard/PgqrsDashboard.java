package io.pgqrs.dashboard;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.Store;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The web dashboard of one {@link Store}: Spring WebFlux functional routes, built once and
 * mounted in an application (as a {@code RouterFunction} bean) or served by {@link DashboardServer}.
 *
 * <p>Pages under the base path (default {@value #DEFAULT_BASE_PATH}): the overview (queues by
 * state, oldest pending age, workers' health; live through server-sent events at
 * {@code <base>/events}), a queue (live, archived and dead-lettered messages, replay and purge
 * with a confirmation step), runs (filtered by workflow, status and time), a run (its steps as a
 * timeline; cancel, pause, resume, signal) and workers. Everything is read from the store when a
 * page is requested, only through the store's public API.
 *
 * <p>Actions are form POSTs; in read-only mode they are not rendered and are refused with 403.
 * With an access token every request needs {@code Authorization: Bearer <token>}, or
 * {@code ?token=<token>} once, which sets a cookie for the base path; otherwise 401. Unknown ids
 * and names give 404, bad input 400, an action the run's or worker's state forbids 409; an
 * unexpected store error gives a 500 page naming it, never a stack trace.
 */
public final class PgqrsDashboard {

  /** The base path when none is given. */
  public static final String DEFAULT_BASE_PATH = "/pgqrs";

  private static final Pattern BASE_PATH = Pattern.compile("(/[A-Za-z0-9._~-]+)*");

  private final Store store;
  private final String basePath;
  private final boolean readOnly;
  private final @Nullable String accessToken;

  private PgqrsDashboard(Builder builder) {
    this.store = builder.store;
    this.basePath = builder.basePath;
    this.readOnly = builder.readOnly;
    this.accessToken = builder.accessToken;
  }

  /**
   * Starts a dashboard of {@code store}: base path {@value #DEFAULT_BASE_PATH}, actions allowed, no
   * access token.
   *
   * @param store the store whose queues, runs and workers are shown; its life is the caller's
   * @return a builder
   */
  public static Builder builder(Store store) {
    return new Builder(store);
  }

  /**
   * The dashboard's routes, all under {@link #basePath()}. Each handler reads the store when a
   * request arrives; a request cancelled by its client cancels its store reads. Building the
   * routes does no I/O.
   *
   * @return a new router function; mount it as is, or combine it with others
   */
  public RouterFunction<ServerResponse> router() {
    return new DashboardRoutes(store, basePath, readOnly, accessToken).router();
  }

  /**
   * The path the routes live under: {@code ""} when mounted at the root, else like {@code /pgqrs}.
   *
   * @return the base path, without a trailing slash
   */
  public String basePath() {
    return basePath;
  }

  /**
   * Whether actions are refused (and not rendered).
   *
   * @return {@code true} in read-only mode
   */
  public boolean readOnly() {
    return readOnly;
  }

  /**
   * Whether requests need the access token.
   *
   * @return {@code true} when an access token was given
   */
  public boolean requiresToken() {
    return accessToken != null;
  }

  /** The access token is never shown. */
  @Override
  public String toString() {
    return "PgqrsDashboard[basePath=" + basePath + ", readOnly=" + readOnly + ", token="
        + (accessToken == null ? "none" : "****") + "]";
  }

  /** Options of a {@link PgqrsDashboard}; {@link #build()} checks them. Not thread-safe. */
  public static final class Builder {
    private final Store store;
    private String basePath = DEFAULT_BASE_PATH;
    private boolean readOnly;
    private @Nullable String accessToken;

    private Builder(Store store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * The path the routes live under (default {@value #DEFAULT_BASE_PATH}): {@code /} or segments
     * of letters, digits and {@code . _ ~ -}, like {@code /ops/pgqrs}. A trailing slash is dropped.
     *
     * @param path the base path
     * @return this builder
     * @throws InvalidArgumentException when the path is not of that form
     */
    public Builder basePath(String path) {
      Objects.requireNonNull(path, "path");
      String normalized = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      if (!path.startsWith("/") || !BASE_PATH.matcher(normalized).matches()) {
        throw new InvalidArgumentException("basePath", "the dashboard's base path must be '/' or like '/pgqrs'"
            + " (segments of letters, digits, '.', '_', '~' and '-'): '" + path + "'");
      }
      this.basePath = normalized;
      return this;
    }

    /**
     * Read-only mode (default off): actions are neither rendered nor accepted (403).
     *
     * @param value {@code true} to refuse actions
     * @return this builder
     */
    public Builder readOnly(boolean value) {
      this.readOnly = value;
      return this;
    }

    /**
     * The access token every request must carry (default none: the application's own security, or
     * the loopback interface, is the gate).
     *
     * @param token at least 8 characters without spaces, or {@code null} for none
     * @return this builder
     * @throws InvalidArgumentException when the token is shorter or holds white space or control characters
     */
    public Builder accessToken(@Nullable String token) {
      if (token != null && (token.length() < 8 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
        throw new InvalidArgumentException("accessToken",
            "the dashboard's access token must be at least 8 printable ASCII characters without spaces");
      }
      this.accessToken = token;
      return this;
    }

    /**
     * The dashboard with these options.
     *
     * @return a new dashboard
     */
    public PgqrsDashboard build() {
      return new PgqrsDashboard(this);
    }
  }
}
