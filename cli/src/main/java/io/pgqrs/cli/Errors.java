package io.pgqrs.cli;

import io.pgqrs.ConfigurationException;
import io.pgqrs.InvalidArgumentException;
import io.pgqrs.PgqrsException;
import io.pgqrs.SchemaNotInstalledException;
import io.pgqrs.queue.MessageNotFoundException;
import io.pgqrs.queue.QueueAlreadyExistsException;
import io.pgqrs.queue.QueueNotEmptyException;
import io.pgqrs.queue.QueueNotFoundException;
import io.pgqrs.queue.ValidationException;
import io.pgqrs.worker.InvalidWorkerStateException;
import io.pgqrs.worker.WorkerAlreadyExistsException;
import io.pgqrs.worker.WorkerHasLeasesException;
import io.pgqrs.worker.WorkerNotFoundException;
import io.pgqrs.workflow.RunNotFoundException;
import io.pgqrs.workflow.RunStateException;
import io.pgqrs.workflow.WorkflowNotFoundException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * How failures end a command: the exit code each kind of error maps to, and the one line printed
 * on stderr ({@code pgqrs: ...}), with the stack trace only under {@code --verbose}. Secrets are
 * masked in everything printed.
 */
final class Errors {

  private Errors() {}

  /** The exit code of an error a command ended with. */
  static int exitCode(Throwable error) {
    Throwable e = unwrap(error);
    if (e instanceof CommandFailure f) {
      return f.exitCode();
    }
    if (e instanceof QueueNotFoundException || e instanceof MessageNotFoundException
        || e instanceof RunNotFoundException || e instanceof WorkerNotFoundException
        || e instanceof WorkflowNotFoundException || e instanceof io.pgqrs.schedule.ScheduleNotFoundException) {
      return ExitCodes.NOT_FOUND;
    }
    if (e instanceof QueueNotEmptyException || e instanceof QueueAlreadyExistsException
        || e instanceof RunStateException || e instanceof InvalidWorkerStateException
        || e instanceof WorkerHasLeasesException || e instanceof WorkerAlreadyExistsException
        || e instanceof io.pgqrs.schedule.ScheduleAlreadyExistsException) {
      return ExitCodes.REFUSED;
    }
    if (e instanceof InvalidArgumentException || e instanceof ConfigurationException
        || e instanceof ValidationException) {
      return ExitCodes.USAGE;
    }
    return ExitCodes.FAILED;
  }

  /** The line that says what went wrong, without the {@code pgqrs: } prefix. */
  static String describe(Throwable error) {
    Throwable e = unwrap(error);
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (e instanceof SchemaNotInstalledException) {
      return message + " (run 'pgqrs install' first)";
    }
    if (e instanceof CommandFailure || e instanceof PgqrsException) {
      return message;
    }
    return "unexpected error: " + e;
  }

  /** Picocli's execution exception handler: prints the error and returns its exit code. */
  static int onFailure(Exception error, PgqrsCli root, CommandLine commandLine) {
    PrintWriter err = commandLine.getErr();
    String dsn = root.rawDsn();
    err.println("pgqrs: " + Secrets.mask(describe(error), dsn));
    if (root.verbose()) {
      StringWriter trace = new StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      err.print(Secrets.mask(trace.toString(), dsn));
    }
    err.flush();
    return exitCode(error);
  }

  /**
   * Picocli's parameter exception handler: one line saying what is wrong and where to read the
   * command's help, instead of the whole usage text, and exit code {@link ExitCodes#USAGE}.
   */
  static int onUsageError(ParameterException error, String[] args) {
    CommandLine commandLine = error.getCommandLine();
    PrintWriter err = commandLine.getErr();
    @Nullable String dsn = commandLine.getCommandSpec().root().userObject() instanceof PgqrsCli root
        ? root.rawDsn() : null;
    err.println("pgqrs: " + Secrets.mask(String.valueOf(error.getMessage()), dsn));
    boolean groupAlone = !commandLine.getSubcommands().isEmpty()
        && String.valueOf(error.getMessage()).startsWith("Missing required subcommand");
    if (groupAlone) {
      // A command group named alone: the list of its subcommands is the help wanted.
      commandLine.usage(err);
    } else {
      CommandLine.UnmatchedArgumentException.printSuggestions(error, err);
      err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help' for more information.");
    }
    err.flush();
    return ExitCodes.USAGE;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while (e instanceof CommandLine.ExecutionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
