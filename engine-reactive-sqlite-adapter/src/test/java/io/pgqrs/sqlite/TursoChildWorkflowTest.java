package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ChildWorkflowContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The child workflow contract on Turso: a real tursodb server over Hrana. */
class TursoChildWorkflowTest extends ChildWorkflowContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
