package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.QueueContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The queue contract on Turso: a real tursodb server over Hrana. */
class TursoQueueTest extends QueueContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
