package io.pgqrs.cli;

import picocli.CommandLine.Option;

/** The {@code --limit} and {@code --after} options of a command that lists messages by id. */
final class Paging {

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
      description = "The most messages to list, 1 to 10000 (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--after", paramLabel = "ID", defaultValue = "0",
      description = "List ids greater than this (default: from the start).")
  long after;
}
