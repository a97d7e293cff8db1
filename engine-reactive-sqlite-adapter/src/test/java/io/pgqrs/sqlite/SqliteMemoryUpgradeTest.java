package io.pgqrs.sqlite;

import java.util.UUID;

/** Upgrading a new named in-memory SQLite database installed at an older version. */
class SqliteMemoryUpgradeTest extends SqliteUpgradeContract {

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=t" + UUID.randomUUID().toString().replace("-", "");
  }
}
