package io.pgqrs.dashboard;

import io.pgqrs.ConfigurationException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunctions;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Serves a {@link PgqrsDashboard} on its own, on Reactor Netty, without Spring Boot.
 *
 * <p>It binds to the loopback interface by default ({@value #DEFAULT_BIND}); binding any other
 * address is refused unless the dashboard has an access token, since its pages show payloads and
 * its actions change the store.
 */
public final class DashboardServer {

  /** The address bound when none is given. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** The port bound when none is given. */
  public static final int DEFAULT_PORT = 8080;

  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|.*:.*");

  private final PgqrsDashboard dashboard;
  private final String bind;
  private final int port;

  private DashboardServer(Builder builder) {
    this.dashboard = builder.dashboard;
    this.bind = builder.bind;
    this.port = builder.port;
  }

  /**
   * Starts the options of a server for {@code dashboard}: {@value #DEFAULT_BIND}, port
   * {@value #DEFAULT_PORT}.
   *
   * @param dashboard what to serve
   * @return a builder
   */
  public static Builder builder(PgqrsDashboard dashboard) {
    return new Builder(dashboard);
  }

  /**
   * Binds the address and serves the dashboard. Cold: each subscription binds a new server.
   * Completes with the running server once it accepts connections; errors when the address cannot
   * be bound (in use, not local). Cancelling before it completes leaves nothing bound.
   *
   * @return the running server; {@link Running#stop()} ends it
   */
  public Mono<Running> start() {
    return Mono.defer(() -> {
      HttpHandler handler = RouterFunctions.toHttpHandler(dashboard.router());
      return HttpServer.create().host(bind).port(port).handle(new ReactorHttpHandlerAdapter(handler)).bind()
          .map(server -> new Running(server, dashboard.basePath()));
    });
  }

  /**
   * The address this server binds.
   *
   * @return a host name or IP address
   */
  public String bind() {
    return bind;
  }

  /** Whether {@code host} names the loopback interface, decided without a DNS lookup. */
  static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!IP_LITERAL.matcher(host).matches()) {
      return false;
    }
    try {
      // An IP literal is parsed, never looked up.
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** A dashboard being served: where, and how to stop it. */
  public static final class Running {
    private final DisposableServer server;
    private final String basePath;

    private Running(DisposableServer server, String basePath) {
      this.server = server;
      this.basePath = basePath;
    }

    /**
     * The port bound: the one asked for, or the one picked for port 0.
     *
     * @return the port
     */
    public int port() {
      return server.port();
    }

    /**
     * The address bound.
     *
     * @return the host, as given to the builder
     */
    public String host() {
      return server.host();
    }

    /**
     * The overview's address, like {@code http://127.0.0.1:8080/pgqrs}.
     *
     * @return the URI of the dashboard's overview
     */
    public URI uri() {
      String host = server.host().contains(":") ? "[" + server.host() + "]" : server.host();
      return URI.create("http://" + host + ":" + server.port() + Html.root(basePath));
    }

    /**
     * Stops accepting connections and closes open ones. Cold; completes when the server is
     * closed, at once when it already is.
     *
     * @return completion
     */
    public Mono<Void> stop() {
      return Mono.fromRunnable(server::disposeNow).subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic()).then();
    }

    /**
     * Completes when the server has stopped, by {@link #stop()} or otherwise. Hot: every
     * subscriber sees the same end.
     *
     * @return completion
     */
    public Mono<Void> onStop() {
      return server.onDispose();
    }
  }

  /** Options of a {@link DashboardServer}; {@link #build()} checks them. Not thread-safe. */
  public static final class Builder {
    private final PgqrsDashboard dashboard;
    private String bind = DEFAULT_BIND;
    private int port = DEFAULT_PORT;

    private Builder(PgqrsDashboard dashboard) {
      this.dashboard = Objects.requireNonNull(dashboard, "dashboard");
    }

    /**
     * The address to bind (default {@value #DEFAULT_BIND}); anything but the loopback interface
     * needs a dashboard with an access token.
     *
     * @param host a host name or IP address, like {@code 0.0.0.0}
     * @return this builder
     */
    public Builder bind(String host) {
      this.bind = Objects.requireNonNull(host, "host").trim();
      return this;
    }

    /**
     * The port (default {@value #DEFAULT_PORT}); 0 picks a free one.
     *
     * @param value 0 to 65535
     * @return this builder
     * @throws ConfigurationException when out of range
     */
    public Builder port(int value) {
      if (value < 0 || value > 65535) {
        throw new ConfigurationException("port", "the dashboard's port must be 0 to 65535: " + value);
      }
      this.port = value;
      return this;
    }

    /**
     * The server with these options; nothing is bound until {@link DashboardServer#start()}.
     *
     * @return a new server
     * @throws ConfigurationException when the address is empty, or is not the loopback interface and
     *     the dashboard has no access token
     */
    public DashboardServer build() {
      if (bind.isEmpty()) {
        throw new ConfigurationException("bind", "the dashboard's bind address is empty");
      }
      if (!isLoopback(bind) && !dashboard.requiresToken()) {
        throw new ConfigurationException("bind", "binding the dashboard to '" + bind
            + "' (not the loopback interface) requires an access token");
      }
      return new DashboardServer(this);
    }
  }
}
