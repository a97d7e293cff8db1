package io.pgqrs.sqlite;

import io.pgqrs.contract.EventsContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The events contract on Turso: a real tursodb server over Hrana. */
class TursoEventsTest extends EventsContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }
}
