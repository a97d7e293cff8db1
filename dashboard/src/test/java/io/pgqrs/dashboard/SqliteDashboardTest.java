package io.pgqrs.dashboard;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's routes on a SQLite file in a fresh directory. */
class SqliteDashboardTest extends DashboardContract {

  @TempDir
  static Path directory;

  @Override
  String dsn() {
    return "sqlite:" + directory.resolve("pgqrs.db");
  }
}
