package io.pgqrs.sqlite;

import io.pgqrs.contract.MaintenanceContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The maintenance contract on Turso: a real tursodb server over Hrana. */
class TursoMaintenanceTest extends MaintenanceContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected String dsn() {
    return SERVER.dsn();
  }

  /**
   * {@code tursodb --sync-server} runs every request on its one connection, so a second store's
   * writes would land inside the first one's transactions: one store, whose sweeps queue up.
   */
  @Override
  protected int stores() {
    return 1;
  }

  /** The local server answers about a hundred requests a second. */
  @Override
  protected int sweepsPerStore() {
    return 10;
  }
}
