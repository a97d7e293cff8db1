package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.ConcurrencyContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The concurrency contract over Hrana with real streams: each transaction on its own stream, and
 * cancelled units must leave no stream holding the write lock (the fake server has no busy timeout).
 */
class HranaStreamsConcurrencyTest extends ConcurrencyContract {

  @RegisterExtension
  static final FakeHranaServer SERVER = new FakeHranaServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }

  /** One HTTP request per statement: a drain of seconds. */
  @Override
  protected int drainMessages() {
    return 2000;
  }

  @Override
  protected int claimers() {
    return 4;
  }
}
