package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.RestartForkContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The restart and fork contract on Turso: a real tursodb server over Hrana. */
class TursoRestartForkTest extends RestartForkContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
