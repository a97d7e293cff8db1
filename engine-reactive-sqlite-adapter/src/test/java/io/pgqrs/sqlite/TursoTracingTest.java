package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.TracingContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The tracing contract on Turso: a real tursodb server over Hrana. */
class TursoTracingTest extends TracingContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
