package io.pgqrs.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The tool on a SQLite file in a fresh directory, shared by this JVM's store and the tool's processes. */
class CliSqliteIT extends CliContract {

  @TempDir
  static Path directory;

  @Override
  String dsn() {
    return "sqlite:" + directory.resolve("pgqrs.db");
  }
}
