package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.QueueContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The queue contract over Hrana with real streams (batons and close, as sqld and Turso Cloud). */
class HranaStreamsQueueTest extends QueueContract {

  @RegisterExtension
  static final FakeHranaServer SERVER = new FakeHranaServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }
}
