package io.pgqrs.sqlite;

import io.pgqrs.contract.ScheduleContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The schedule contract on Turso: a real tursodb server over Hrana. */
class TursoScheduleTest extends ScheduleContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }

  /**
   * {@code tursodb --sync-server} runs every request on its one connection: one store, whose three
   * firers race on it.
   */
  @Override
  protected int stores() {
    return 1;
  }
}
