package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConsumerContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The consumer contract on Turso: a real tursodb server over Hrana. */
class TursoConsumerTest extends ConsumerContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }

  /** The local server answers about a hundred requests a second. */
  @Override
  protected int messagesForConcurrency() {
    return 60;
  }
}
