package io.pgqrs.sqlite;

import io.pgqrs.contract.StoreClockContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The store-clock contract on Turso: a real tursodb server over Hrana. */
class TursoStoreClockTest extends StoreClockContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }
}
