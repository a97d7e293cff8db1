package io.pgqrs.cli;

import io.pgqrs.Store;
import io.pgqrs.dashboard.DashboardServer;
import io.pgqrs.dashboard.PgqrsDashboard;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dashboard}: serves the web dashboard of the store on Reactor Netty until the process is
 * interrupted (Ctrl-C, SIGTERM), which stops the server and closes the store.
 */
@Command(name = "dashboard", description = {
    "Serves the web dashboard (queues, dead letters, runs, workers) until interrupted.",
    "It binds the loopback interface unless --bind says otherwise; any other address needs --token."})
final class DashboardCommand extends StoreCommand {

  private static final Duration STOP_WITHIN = Duration.ofSeconds(10);

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
      description = "The port, 0 for a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = DashboardServer.DEFAULT_BIND,
      description = "The address to listen on (default: ${DEFAULT-VALUE}); anything else needs --token.")
  String bind;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "An access token (8+ characters) every request must carry: Authorization: Bearer TOKEN,"
          + " or ?token=TOKEN once in the browser.")
  @Nullable String token;

  @Option(names = "--read-only", description = "Show everything, allow no action (replay, purge, cancel...).")
  boolean readOnly;

  @Override
  int run(Store store, Output out) {
    PgqrsDashboard dashboard = PgqrsDashboard.builder(store).readOnly(readOnly).accessToken(token).build();
    DashboardServer server = DashboardServer.builder(dashboard).bind(bind).port(port).build();
    DashboardServer.Running running = await(server.start(), "start the dashboard");
    Thread stopper = new Thread(() -> running.stop().then(store.close()).block(STOP_WITHIN), "pgqrs-dashboard-stop");
    Runtime.getRuntime().addShutdownHook(stopper);
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("url", running.uri().toString());
    document.put("readOnly", readOnly);
    document.put("token", token != null);
    out.print(document, () -> "pgqrs dashboard at " + running.uri() + (readOnly ? " (read-only)" : "")
        + (token != null ? " (open it once with ?token=...)" : "") + "; Ctrl-C stops it" + System.lineSeparator());
    spec.commandLine().getOut().flush();
    running.onStop().block();
    return ExitCodes.OK;
  }
}
