package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.MetricsContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The metrics contract on Turso: a real tursodb server over Hrana. */
class TursoMetricsTest extends MetricsContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
