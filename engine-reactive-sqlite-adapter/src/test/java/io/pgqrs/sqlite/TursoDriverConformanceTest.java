package io.pgqrs.sqlite;

import io.pgqrs.conformance.DriverConformance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The driver conformance suite on Turso: a real tursodb server over Hrana. */
class TursoDriverConformanceTest extends DriverConformance {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }
}
