package io.pgqrs.cli;

/**
 * A failure the tool finds itself, before or after asking the store: a missing DSN, a destructive
 * command without {@code --yes}, a message that is not dead-lettered. Carries its exit code.
 */
final class CommandFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int exitCode;

  CommandFailure(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
