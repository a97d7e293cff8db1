package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tool says before or without a working store: help and its exit codes, usage errors
 * (exit 2) as one line and a hint, the DSN from {@code PGQRS_DSN}, and a password in a DSN that is
 * never printed, whether the DSN is unreachable, invalid or passed to a mistyped option.
 */
class CliUsageIT {

  private static final String SECRET = "s3cr3t-Pw_9";
  /** Nothing listens on port 1 of the loopback address: connecting fails at once. */
  private static final String UNREACHABLE = "postgresql://operator:" + SECRET + "@127.0.0.1:1/app?schema=jobs";

  @TempDir
  Path directory;

  @Test
  void helpListsTheCommandsAndTheExitCodes() {
    CliProcess.Result help = CliProcess.run(null, "--help").exits(ExitCodes.OK);
    assertThat(help.out()).contains("Usage: pgqrs", "install", "queues", "messages", "dlq", "runs", "workers", "dashboard",
        "Exit codes:", "3   not found", "4   refused");
    CliProcess.Result group = CliProcess.run(null, "runs").exits(ExitCodes.USAGE);
    assertThat(group.err()).startsWith("pgqrs: Missing required subcommand").contains("cancel", "signal", "Exit codes:");
  }

  @Test
  void usageErrorsAreOneLineAndExitTwo() {
    CliProcess.Result noStore = CliProcess.run(null, "queues", "list").exits(ExitCodes.USAGE);
    assertThat(noStore.err()).isEqualToIgnoringNewLines("pgqrs: no store given: pass --dsn DSN or set PGQRS_DSN");
    String dsn = "sqlite:" + directory.resolve("usage.db");
    CliProcess.Result badLimit = CliProcess.withDsn(dsn, "runs", "list", "--limit", "many").exits(ExitCodes.USAGE);
    assertThat(badLimit.err()).startsWith("pgqrs: Invalid value for option '--limit'")
        .contains("Try 'pgqrs runs list --help'");
    CliProcess.Result typo = CliProcess.withDsn(dsn, "queues", "lst").exits(ExitCodes.USAGE);
    assertThat(typo.err()).contains("'lst'", "list");
    CliProcess.Result unconfirmed = CliProcess.withDsn(dsn, "uninstall").exits(ExitCodes.USAGE);
    assertThat(unconfirmed.err()).contains("--yes");
  }

  @Test
  void theDsnComesFromTheEnvironmentWithoutDsnOption() {
    Path file = directory.resolve("from-env.db");
    CliProcess.Result verify = CliProcess.run("sqlite:" + file, "verify").exits(ExitCodes.FAILED);
    assertThat(verify.out()).contains(file.toString(), "installed_version", "valid");
    assertThat(verify.err()).isEqualToIgnoringNewLines("pgqrs: schema '" + file + "' is not installed: run 'pgqrs install'");
  }

  @Test
  void aPasswordIsNeverPrinted() {
    CliProcess.Result unreachable = CliProcess.withDsn(UNREACHABLE, "--verbose", "queues", "list")
        .exits(ExitCodes.FAILED);
    assertThat(unreachable.err()).startsWith("pgqrs: ").contains("operator:****@127.0.0.1:1");
    assertThat(unreachable.printed()).doesNotContain(SECRET);

    CliProcess.Result fromEnvironment = CliProcess.run(UNREACHABLE, "workers", "list").exits(ExitCodes.FAILED);
    assertThat(fromEnvironment.printed()).doesNotContain(SECRET).contains("****");

    CliProcess.Result invalid = CliProcess.withDsn("mysql://operator:" + SECRET + "@db/app", "queues", "list")
        .exits(ExitCodes.USAGE);
    assertThat(invalid.err()).startsWith("pgqrs: unsupported dsn");
    assertThat(invalid.printed()).doesNotContain(SECRET);

    CliProcess.Result mistyped = CliProcess.run(null, "--dns=" + UNREACHABLE, "queues", "list")
        .exits(ExitCodes.USAGE);
    assertThat(mistyped.printed()).doesNotContain(SECRET);
  }
}
