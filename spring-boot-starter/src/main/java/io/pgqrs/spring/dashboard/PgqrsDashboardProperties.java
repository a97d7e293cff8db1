package io.pgqrs.spring.dashboard;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code pgqrs.dashboard.*}: whether and where the web dashboard is mounted. The dashboard has no
 * security of its own here: it sits behind the application's (Spring Security or a gateway).
 */
@ConfigurationProperties("pgqrs.dashboard")
public class PgqrsDashboardProperties {

  /** Whether the web dashboard's routes are mounted (needs pgqrs-dashboard on the class path and WebFlux). */
  private boolean enabled;

  /** Whether the dashboard only shows: replay, purge, cancel, pause, resume and signal are refused (403). */
  private boolean readOnly;

  /** The path the dashboard is mounted at, like /pgqrs or /ops/pgqrs. */
  private String path = "/pgqrs";

  /** Creates the properties with their defaults: off, actions allowed, at {@code /pgqrs}. */
  public PgqrsDashboardProperties() {}

  /**
   * Whether the dashboard is mounted.
   *
   * @return {@code true} when enabled
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Mounts the dashboard or not.
   *
   * @param enabled {@code true} to mount it
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * Whether actions are refused.
   *
   * @return {@code true} in read-only mode
   */
  public boolean isReadOnly() {
    return readOnly;
  }

  /**
   * Refuses actions or not.
   *
   * @param readOnly {@code true} for read-only
   */
  public void setReadOnly(boolean readOnly) {
    this.readOnly = readOnly;
  }

  /**
   * The mount path.
   *
   * @return like {@code /pgqrs}
   */
  public String getPath() {
    return path;
  }

  /**
   * Sets the mount path; checked when the dashboard is built.
   *
   * @param path like {@code /pgqrs}
   */
  public void setPath(String path) {
    this.path = path;
  }
}
