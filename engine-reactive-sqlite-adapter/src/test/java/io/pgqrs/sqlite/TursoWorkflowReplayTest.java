package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.WorkflowReplayContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The replay contract on Turso: a real tursodb server over Hrana. */
class TursoWorkflowReplayTest extends WorkflowReplayContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
