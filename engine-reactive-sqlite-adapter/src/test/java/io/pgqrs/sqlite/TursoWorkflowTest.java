package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The workflow contract on Turso: a real tursodb server over Hrana. */
class TursoWorkflowTest extends WorkflowContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }

  /** The local server answers about a hundred requests a second. */
  @Override
  protected int runsForConcurrency() {
    return 20;
  }
}
