package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConcurrencyContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The concurrency contract on Turso: a real tursodb server over Hrana. */
class TursoConcurrencyTest extends ConcurrencyContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }

  /** The local server answers about a hundred requests a second: a drain that ends in seconds. */
  @Override
  protected int drainMessages() {
    return 300;
  }

  /** One writer behind HTTP: two claimers interleave their claims and archives. */
  @Override
  protected int claimers() {
    return 2;
  }
}
