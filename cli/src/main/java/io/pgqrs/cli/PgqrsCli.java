package io.pgqrs.cli;

import io.pgqrs.PgqrsConfig;
import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code pgqrs}, the command-line tool: the root command, its global options and the entry point.
 *
 * <p>Every command connects to the store named by {@code --dsn} (else the environment variable
 * {@code PGQRS_DSN}), with background maintenance and wake-ups off, runs one operation, prints its
 * result and closes the store. The result is an aligned table or a line of text, or with
 * {@code --json} one JSON document, on stdout; errors are one line on stderr and an exit code from
 * {@link ExitCodes}. A DSN's password is never printed.
 */
@Command(
    name = "pgqrs",
    mixinStandardHelpOptions = true,
    scope = ScopeType.INHERIT,
    versionProvider = PgqrsCli.Version.class,
    usageHelpAutoWidth = true,
    sortOptions = false,
    description = "Operates a pgqrs store: its schema, queues, messages, dead letters, workflow runs and workers.",
    subcommands = {
        AdminCommands.Install.class,
        AdminCommands.Verify.class,
        AdminCommands.Uninstall.class,
        QueuesCommand.class,
        MessagesCommand.class,
        DlqCommand.class,
        RunsCommand.class,
        WorkersCommand.class,
        SchedulesCommand.class,
        DashboardCommand.class
    })
public final class PgqrsCli {

  /** The environment variable read when no {@code --dsn} is given. */
  public static final String DSN_ENV = "PGQRS_DSN";

  private static final Map<String, String> EXIT_CODES = exitCodes();

  @Option(names = "--dsn", paramLabel = "DSN", scope = ScopeType.INHERIT, order = 0,
      description = {"The store: postgresql://user:password@host:port/db?schema=s, sqlite:path/to/file.db,"
          + " turso://host:port (default: the environment variable " + DSN_ENV + ")."})
  @Nullable String dsn;

  @Option(names = "--json", scope = ScopeType.INHERIT, order = 1,
      description = "Print the result as one JSON document instead of a table.")
  boolean json;

  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, order = 2,
      description = "Print the stack trace of an error, and the engine's debug log on stderr.")
  boolean verbose;

  private final Map<String, String> environment;

  private PgqrsCli(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  /**
   * Runs {@code pgqrs} with the process's arguments, standard streams and environment, and exits
   * the JVM with the command's exit code (see {@link ExitCodes}).
   *
   * @param args the arguments, as after {@code pgqrs} on a command line
   */
  public static void main(String... args) {
    Charset charset = Charset.defaultCharset();
    PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, charset), true);
    PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, charset), true);
    int code = execute(out, err, System.getenv(), args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * Runs one {@code pgqrs} command in this JVM without exiting it: parses {@code args}, connects,
   * runs the command to its end (blocking the calling thread, which must not be a Reactor thread),
   * prints to {@code out} and {@code err}, and closes the store. Never throws for a failed command:
   * the failure is printed on {@code err} and reported by the exit code.
   *
   * @param out where results go (a table, text or one JSON document)
   * @param err where errors and usage messages go
   * @param environment the variables to read {@value #DSN_ENV} from
   * @param args the arguments, as after {@code pgqrs} on a command line
   * @return the exit code, one of {@link ExitCodes}
   */
  public static int execute(PrintWriter out, PrintWriter err, Map<String, String> environment, String... args) {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    Objects.requireNonNull(environment, "environment");
    PgqrsCli root = new PgqrsCli(environment);
    CommandLine commandLine = new CommandLine(root);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setUsageHelpAutoWidth(true);
    commandLine.setParameterExceptionHandler(Errors::onUsageError);
    commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> Errors.onFailure(e, root, cmd));
    applyExitCodeList(commandLine);
    try {
      return commandLine.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** Every command's help lists the exit codes; annotations cannot share one map. */
  private static void applyExitCodeList(CommandLine commandLine) {
    commandLine.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(EXIT_CODES);
    for (CommandLine sub : commandLine.getSubcommands().values()) {
      applyExitCodeList(sub);
    }
  }

  private static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put(ExitCodes.OK + "", "ok");
    codes.put(ExitCodes.FAILED + "", "the operation failed (store error, schema missing or incomplete)");
    codes.put(ExitCodes.USAGE + "", "usage error (unknown command or option, bad argument or DSN, no --yes)");
    codes.put(ExitCodes.NOT_FOUND + "", "not found (queue, message, workflow run, workflow or worker)");
    codes.put(ExitCodes.REFUSED + "", "refused in the current state (queue not empty, run or worker status)");
    return codes;
  }

  /** The DSN as given, or from the environment; never printed as is. */
  @Nullable String rawDsn() {
    if (dsn != null && !dsn.isBlank()) {
      return dsn;
    }
    String fromEnvironment = environment.get(DSN_ENV);
    return fromEnvironment == null || fromEnvironment.isBlank() ? null : fromEnvironment;
  }

  boolean json() {
    return json;
  }

  boolean verbose() {
    return verbose;
  }

  /**
   * Connects to the store: the DSN's own parameters apply (schema, pool, pooler, timeouts), and
   * the tool turns off what a short-lived process does not need: background maintenance (other
   * engines run it) and the LISTEN connection (nothing here waits for wake-ups).
   */
  Store connect() {
    String raw = rawDsn();
    if (raw == null) {
      throw new CommandFailure(ExitCodes.USAGE, "no store given: pass --dsn DSN or set " + DSN_ENV);
    }
    if (verbose) {
      // Read by SLF4J's simple logger when the engine creates its first logger, which is below.
      System.setProperty("org.slf4j.simpleLogger.log.io.pgqrs", "debug");
    }
    PgqrsConfig config = PgqrsConfig.builder(raw)
        .maintenanceInterval(Duration.ZERO)
        .wakeups(false)
        .poolInitialSize(1)
        .poolMaxSize(2)
        .build();
    return Objects.requireNonNull(Pgqrs.connect(config).block(), "connect completed without a store");
  }

  /** The version from the jar's build, for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties properties = new Properties();
      try (InputStream in = PgqrsCli.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          properties.load(in);
        }
      }
      return new String[] {"pgqrs " + properties.getProperty("version", "(unknown version)")};
    }
  }
}
