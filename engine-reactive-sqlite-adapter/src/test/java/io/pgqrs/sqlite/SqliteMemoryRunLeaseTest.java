package io.pgqrs.sqlite;

import java.util.UUID;

/** The run-lease operations on SQLite (a new named in-memory database). */
class SqliteMemoryRunLeaseTest extends RunLeaseContract {

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=t" + UUID.randomUUID().toString().replace("-", "");
  }
}
