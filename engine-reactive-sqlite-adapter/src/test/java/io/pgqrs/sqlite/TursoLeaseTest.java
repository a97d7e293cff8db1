package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.LeaseContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The lease contract on Turso: a real tursodb server over Hrana. */
class TursoLeaseTest extends LeaseContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
