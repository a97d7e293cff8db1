package io.pgqrs.cli;

/**
 * The exit codes of {@code pgqrs}, the same for every command. A failed command prints one line,
 * {@code pgqrs: <what went wrong>}, on stderr (with the stack trace under {@code --verbose}).
 */
public final class ExitCodes {

  /** The command did what it was asked. */
  public static final int OK = 0;

  /**
   * The operation failed: the store could not be reached or answered with an error, the schema is
   * not installed, or {@code verify} found it incomplete.
   */
  public static final int FAILED = 1;

  /**
   * A usage error: an unknown command or option, a missing or malformed argument, an invalid DSN,
   * queue name or limit, or a destructive command without {@code --yes}.
   */
  public static final int USAGE = 2;

  /** What the command names does not exist: a queue, message, workflow run, workflow or worker. */
  public static final int NOT_FOUND = 3;

  /**
   * The store refused the operation in the current state, and nothing was changed: a queue that is
   * not empty or exists already, a run whose status does not allow it, a worker that is stopped or
   * holds leases, a message that is not dead-lettered.
   */
  public static final int REFUSED = 4;

  private ExitCodes() {}
}
