package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkerContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The worker contract on Turso: a real tursodb server over Hrana. */
class TursoWorkerTest extends WorkerContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
