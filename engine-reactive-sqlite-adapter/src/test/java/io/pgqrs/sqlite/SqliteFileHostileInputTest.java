package io.pgqrs.sqlite;

import io.pgqrs.Store;
import io.pgqrs.contract.HostileInputContract;
import java.util.List;

/** The hostile-input contract on SQLite (file), with payload texts only a text column holds. */
class SqliteFileHostileInputTest extends HostileInputContract {

  @Override
  protected Store openStore() {
    return SqliteStores.newFileStore();
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
