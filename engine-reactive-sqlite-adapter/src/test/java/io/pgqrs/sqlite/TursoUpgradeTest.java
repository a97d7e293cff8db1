package io.pgqrs.sqlite;

import org.junit.jupiter.api.extension.RegisterExtension;

/** Upgrading a Turso database installed at an older version: a real tursodb server over Hrana. */
class TursoUpgradeTest extends SqliteUpgradeContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }
}
