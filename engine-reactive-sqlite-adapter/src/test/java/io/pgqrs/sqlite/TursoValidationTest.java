package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ValidationContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The validation contract on Turso: a real tursodb server over Hrana. */
class TursoValidationTest extends ValidationContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
