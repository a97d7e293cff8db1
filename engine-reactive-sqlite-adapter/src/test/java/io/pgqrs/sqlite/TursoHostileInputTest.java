package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.HostileInputContract;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The hostile-input contract on Turso: a real tursodb server over Hrana. */
class TursoHostileInputTest extends HostileInputContract {

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Override
  protected Store openStore() {
    return SERVER.connect();
  }

  @Override
  protected List<String> unreadablePayloads() {
    return SqliteHostileInput.unreadablePayloads(super.unreadablePayloads());
  }

  @Override
  protected void overwritePayload(long messageId, String storedText) {
    SqliteHostileInput.overwritePayload(driver(), messageId, storedText);
  }
}
