package io.pgqrs.sqlite;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The run-lease operations on Turso: a real tursodb server over Hrana. */
class TursoRunLeaseTest extends RunLeaseContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }
}
